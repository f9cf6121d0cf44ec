import FakeTelegram
import Foundation
import Testing

/// A bot with paid broadcasts: sends with `allow_paid_broadcast: true` go at the paid rate,
/// ordinary ones stay within the free 30/s, and the simulator sees no violation of either.
@Suite(.serialized)
struct PaidBroadcastTests {
    @Test func paidSendsGoFasterThanTheFreeLimitWithoutViolations() async throws {
        let config: [String: Any] = ["bots": ["default"], "bot": ["default": ["token": TestBed.token, "paid_broadcast": true, "per_second": 200]]]
        let bed = try await TestBed(limits: .telegram, config: config)
        defer { Task { try await bed.shutdown() } }
        let paid: [[String: Any]] = (0..<300).map { ["chat_id": 80_000 + $0, "text": "paid \($0)", "allow_paid_broadcast": true] }
        let free: [[String: Any]] = (0..<60).map { ["chat_id": 81_000 + $0, "text": "free \($0)"] }
        #expect(try await bed.post("/messages/batch", ["messages": paid + free]).status == 202)
        #expect(try await eventually(timeout: .seconds(30), every: .milliseconds(200)) {
            bed.telegram.stats().messagesDelivered >= 360
        })
        let stats = bed.telegram.stats()
        #expect(stats.limitViolations == 0)
        #expect(stats.tooManyRequestsTotal == 0)
        let arrivals = bed.telegram.messages(bot: TestBed.botID).map(\.receivedAt).sorted()
        var busiest = 0
        var start = 0
        for end in arrivals.indices {
            while arrivals[end].timeIntervalSince(arrivals[start]) >= 1 { start += 1 }
            busiest = max(busiest, end - start + 1)
        }
        #expect(busiest > 30, "paid sends used the paid rate (busiest second: \(busiest))")
        #expect(busiest <= 200)
    }
}
