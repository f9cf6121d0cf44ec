import AsyncHTTPClient
import FakeTelegram
import Foundation
import Testing

/// Several Bot API base URLs in priority order: an open circuit on the first moves sending to the
/// next, and traffic returns to the first once its probe succeeds.
@Suite(.serialized)
struct FailoverTests {
    @Test func anOutageOfThePrimaryFailsOverAndTrafficReturnsAfterRecovery() async throws {
        let primary = FakeTelegram(configuration: FakeTelegramConfiguration())
        let secondary = FakeTelegram(configuration: FakeTelegramConfiguration())
        _ = try await primary.start()
        _ = try await secondary.start()
        let directory = try temporaryDirectory()
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        let relay = try RelayProcess(
            directory: directory, telegramAPI: "\(primary.baseURL),\(secondary.baseURL)", token: TestBed.token,
            environment: ["TGRELAY_CONFIG": try Self.writeConfig(in: directory)])
        do {
            try await relay.start(http: http)
            let api = relay.baseURL + "/v1"
            func send(_ chat: Int) async throws -> Int {
                let response = try await http.json(.POST, api + "/messages", body: ["chat_id": chat, "text": "via \(chat)"])
                return try #require(response["id"] as? Int)
            }
            func delivered(_ id: Int) async throws -> Bool {
                try await http.json(.GET, api + "/messages/\(id)")["status"] as? String == "delivered"
            }

            #expect(try await delivered(try await Self.waitFor(send(70_000), delivered)))
            #expect(primary.messages(bot: TestBed.botID).count == 1)

            var outage = FakeFault(kind: .outage)
            outage.duration = 6
            try primary.addFault(outage)
            var ids: [Int] = []
            for chat in 70_001...70_010 { ids.append(try await send(chat)) }
            #expect(try await eventually(timeout: .seconds(20)) {
                for id in ids where !(try await delivered(id)) { return false }
                return true
            })
            let onSecondary = secondary.messages(bot: TestBed.botID).count
            #expect(onSecondary >= 5, "the open circuit moved sending to the second endpoint (\(onSecondary) there)")
            let status = try await http.json(.GET, api + "/status")["bots"] as? [[String: Any]]
            let circuits = (status?.first?["endpoints"] as? [[String: Any]])?.map { $0["circuit"] as? String }
            #expect(circuits?.first != "closed", "the primary is still seen as down")

            // After the outage the probe closes the primary's circuit and sends go there again.
            try await Task.sleep(for: .seconds(8))
            let later = try await send(70_020)
            #expect(try await eventually(timeout: .seconds(10)) { try await delivered(later) })
            #expect(primary.messages(bot: TestBed.botID, chat: "70020").count == 1)
            #expect(secondary.messages(bot: TestBed.botID, chat: "70020").isEmpty)
        } catch {
            Issue.record("\(error)")
        }
        relay.kill9()
        try await http.shutdown()
        await primary.stop()
        await secondary.stop()
    }

    /// Short timeouts and few attempts so the circuit opens within a second or two.
    static func writeConfig(in directory: URL) throws -> String {
        let url = directory.appendingPathComponent("config.json")
        try JSONSerialization.data(withJSONObject: ["options": ["request_timeout_seconds": 2]]).write(to: url)
        return url.path
    }

    static func waitFor(_ id: Int, _ check: (Int) async throws -> Bool) async throws -> Int {
        _ = try await eventually(timeout: .seconds(10)) { try await check(id) }
        return id
    }
}
