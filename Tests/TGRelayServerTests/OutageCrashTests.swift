import FakeTelegram
import Foundation
import Testing

/// An outage and a crash at once: messages accepted before and during a Telegram outage survive a
/// `kill -9` of the relay in the middle of it, and are all delivered once both have recovered.
@Suite(.serialized)
struct OutageCrashTests {
    @Test func killNineDuringAnOutageLosesNothing() async throws {
        let bed = try await TestBed(limits: .telegram, config: ["options": ["request_timeout_seconds": 2]])
        defer { Task { try await bed.shutdown() } }
        var outage = FakeFault(kind: .outage)
        outage.duration = 10
        try bed.telegram.addFault(outage)
        var ids: [Int] = []
        for chat in 0..<20 { ids.append(try await bed.send(chat: 90_000 + chat, text: "before the crash \(chat)")) }
        try await Task.sleep(for: .seconds(3))
        bed.relay.kill9()
        try await bed.relay.start(http: bed.http)
        for chat in 0..<20 { ids.append(try await bed.send(chat: 90_000 + chat, text: "after the crash \(chat)")) }

        let final = try await bed.waitFinal(ids, timeout: .seconds(60))
        #expect(final.count == ids.count)
        #expect(final.values.allSatisfy { $0["status"] as? String == "delivered" }, "nothing dead-lettered because of the outage")
        for chat in 0..<20 {
            #expect(bed.deliveredTexts(chat: String(90_000 + chat)) == ["before the crash \(chat)", "after the crash \(chat)"])
        }
        #expect(bed.telegram.stats().limitViolations == 0)
    }
}
