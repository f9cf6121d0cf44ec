import AsyncHTTPClient
import FakeTelegram
import Foundation
import Testing

/// Inbound updates with two nodes on one PostgreSQL database: only the holder of the bot's lease polls
/// Telegram (two pollers would make it answer 409), an app long-polling the other node gets every update
/// once and in order, and when the holder is `kill -9`ed the other node takes the polling over.
@Suite(.serialized, .enabled(if: TestPostgres.isEnabled))
struct MultiNodeInboundTests {
    @Test func onlyTheLeaseHolderPollsAndTheOtherNodeServesTheApp() async throws {
        let database = try TestPostgres()
        defer { database.drop() }
        let telegram = FakeTelegram(configuration: FakeTelegramConfiguration(limits: .off))
        _ = try await telegram.start()
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        let directory = try temporaryDirectory()
        let consumer = GetUpdatesConsumer()
        var nodes: [RelayProcess] = []
        do {
            let config = directory.appendingPathComponent("config.json")
            try JSONSerialization.data(withJSONObject: Inbound.config()).write(to: config)
            nodes = try ["node-a", "node-b"].map { name in
                let home = directory.appendingPathComponent(name)
                try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
                return try RelayProcess(directory: home, telegramAPI: telegram.baseURL, token: TestBed.token, environment: [
                    "TGRELAY_DATABASE": database.url, "TGRELAY_CONFIG": config.path, "TGRELAY_NODE_ID": name,
                    "TGRELAY_NODE_LEASE_SECONDS": "4",
                ])
            }
            for node in nodes { try await node.start(http: http) }
            var holderName: String?
            #expect(try await eventually(timeout: .seconds(20)) {
                holderName = try await MultiNodeTests.leaseHolders(nodes[0], http: http)["default"]
                return holderName != nil
            })
            let holder = try #require(nodes.first { $0.environment["TGRELAY_NODE_ID"] == holderName })
            let other = try #require(nodes.first { $0 !== holder })
            consumer.start(relay: other.baseURL, http: http)

            var injected: [Int64] = []
            for _ in 0..<3 { injected += try Inbound.inject(telegram, count: 100, tag: "up") }
            #expect(try await eventually(timeout: .seconds(30)) { consumer.updateIDs.count >= 300 })
            #expect(telegram.stats().responsesByStatus[409, default: 0] == 0, "one poller at a time")

            holder.kill9()
            for _ in 0..<3 { injected += try Inbound.inject(telegram, count: 100, tag: "after-kill") }
            let complete = try await eventually(timeout: .seconds(60), every: .milliseconds(200)) { consumer.updateIDs.count >= 600 }
            try await Task.sleep(for: .milliseconds(500))
            await consumer.stop()
            #expect(complete, "the app saw \(consumer.updateIDs.count) of 600")
            #expect(consumer.updateIDs == injected.sorted(), "each update once, in update_id order")
            #expect(try await MultiNodeTests.leaseHolders(other, http: http)["default"] == other.environment["TGRELAY_NODE_ID"])
        } catch {
            for node in nodes { print(node.logText.suffix(3000)) }
            await consumer.stop()
            nodes.forEach { $0.kill9() }
            await telegram.stop()
            try await http.shutdown()
            try? FileManager.default.removeItem(at: directory)
            throw error
        }
        nodes.forEach { $0.kill9() }
        await telegram.stop()
        try await http.shutdown()
        try? FileManager.default.removeItem(at: directory)
    }
}
