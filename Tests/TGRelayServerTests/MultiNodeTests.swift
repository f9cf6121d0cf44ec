import AsyncHTTPClient
import FakeTelegram
import Foundation
import Testing

/// Three `tgrelay serve` processes on one PostgreSQL database (issue 7, DESIGN.md "Several nodes"): messages
/// accepted by all three, one node `kill -9`ed mid-run and another restarted; every message is delivered
/// once (the ambiguous ones excepted, and counted), in order in every lane, within the simulator's limits,
/// and the dead node's bots are taken over within the lease time.
@Suite(.serialized, .enabled(if: TestPostgres.isEnabled))
struct MultiNodeTests {
    static let bots = ["alpha", "beta", "gamma"]
    static let lanes = 2_000
    static let perLane = 10
    static let leaseSeconds = 5.0
    static func token(_ index: Int) -> String { "\(910_001 + index):MULTI-node-\(index)" }
    static func chat(_ lane: Int) -> Int { 6_000_000 + lane }

    @Test func threeNodesShareTheBotsAndSurviveAKillAndARestart() async throws {
        let database = try TestPostgres()
        defer { database.drop() }
        let telegram = FakeTelegram(configuration: FakeTelegramConfiguration())
        _ = try await telegram.start()
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        let directory = try temporaryDirectory()
        var nodes: [RelayProcess] = []
        defer {
            nodes.forEach { $0.kill9() }
            try? FileManager.default.removeItem(at: directory)
        }
        do {
            nodes = try Self.makeNodes(directory: directory, database: database.url, telegram: telegram.baseURL)
            for node in nodes { try await node.start(http: http) }
            try await run(nodes: nodes, database: database, telegram: telegram, http: http)
        } catch {
            for node in nodes { print(node.logText.suffix(3000)) }
            nodes.forEach { $0.kill9() }
            await telegram.stop()
            try await http.shutdown()
            throw error
        }
        nodes.forEach { $0.kill9() }
        await telegram.stop()
        try await http.shutdown()
    }

    private func run(nodes: [RelayProcess], database: TestPostgres, telegram: FakeTelegram, http: HTTPClient) async throws {
        // The bots spread out, one per node, once every node has seen the others.
        #expect(try await eventually(timeout: .seconds(30), every: .milliseconds(200)) {
            let holders = try await Self.leaseHolders(nodes[0], http: http)
            return Set(holders.values).count == 3 && holders.count == 3
        }, "each node holds one bot")

        // Accepted in lane order, batches spread over the three nodes.
        var ids: [Int] = []
        let total = Self.lanes * Self.perLane
        for (number, start) in stride(from: 0, to: total, by: 1000).enumerated() {
            let messages: [[String: Any]] = (start..<start + 1000).map { position in
                let lane = position % Self.lanes
                return [
                    "bot": Self.bots[lane % 3], "method": "sendMessage",
                    "params": ["chat_id": Self.chat(lane), "text": "\(position / Self.lanes)", "allow_paid_broadcast": true],
                ]
            }
            let answer = try await http.json(.POST, nodes[number % 3].baseURL + "/v1/messages/batch", body: ["messages": messages])
            #expect(answer.status == 202, "batch \(number): \(answer.body)")
            ids += ((answer["messages"] as? [[String: Any]]) ?? []).compactMap { $0["id"] as? Int }
        }
        #expect(ids.count == total)

        // kill -9 of the node holding alpha, a third of the way through.
        #expect(try await eventually(timeout: .seconds(120), every: .milliseconds(100)) { telegram.stats().messagesDelivered >= total / 3 })
        let holders = try await Self.leaseHolders(nodes[1], http: http)
        let victimName = try #require(holders["alpha"])
        let victim = try #require(nodes.first { $0.environment["TGRELAY_NODE_ID"] == victimName })
        let orphaned = Set(holders.filter { $0.value == victimName }.keys)
        let survivors = nodes.filter { $0 !== victim }
        victim.kill9()
        let killedAt = Date()
        // Its bots are taken over within the lease time (plus one renewal round of the taker).
        #expect(try await eventually(timeout: .seconds(30), every: .milliseconds(100)) {
            let now = try await Self.leaseHolders(survivors[0], http: http)
            return orphaned.allSatisfy { now[$0] != nil && now[$0] != victimName }
        })
        let takeover = Date().timeIntervalSince(killedAt)
        #expect(takeover <= Self.leaseSeconds * 1.25 + 1, "takeover after \(takeover) s")

        // Another node restarted gracefully: its bots move at once (released at shutdown), and it takes a share back.
        let restarted = survivors[0]
        #expect(restarted.terminate() == 0)
        try await restarted.start(http: http)
        // The killed node comes back too, so the run ends with three nodes again.
        try await victim.start(http: http)

        #expect(try await eventually(timeout: .seconds(180), every: .milliseconds(500)) {
            try database.query("SELECT count(*) FROM message WHERE status IN ('queued', 'sending', 'waiting')") == ["0"]
        }, "every message reached a final state")
        let statuses = try database.query("SELECT status || ':' || count(*) FROM message GROUP BY status")
        #expect(statuses == ["delivered:\(total)"])
        let ambiguous = Int(try database.query("SELECT count(*) FROM message WHERE ambiguous").first ?? "") ?? -1

        var repeats = 0
        var outOfOrder = 0
        let recorded = Dictionary(grouping: telegram.messages(), by: \.chatID)
        for lane in 0..<Self.lanes {
            let texts = (recorded[Int64(Self.chat(lane))] ?? []).compactMap { $0.params["text"]?.stringValue }
            var collapsed: [String] = []
            for text in texts {
                if collapsed.last == text { repeats += 1 } else { collapsed.append(text) }
            }
            if collapsed != (0..<Self.perLane).map(String.init) { outOfOrder += 1 }
        }
        #expect(outOfOrder == 0, "lanes out of order or incomplete")
        #expect(repeats <= ambiguous, "a message sent twice is one flagged ambiguous (\(repeats) repeats, \(ambiguous) ambiguous)")
        let stats = telegram.stats()
        #expect(stats.limitViolations == 0, "limits kept: \(stats.limitViolationsByKind)")
        let verify = try runProcess(RelayProcess.binary, ["ledger", "verify", "--database", database.url])
        #expect(verify.status == 0, "ledger verifies: \(verify.output)")
        print("three nodes: takeover after \(String(format: "%.1f", takeover)) s, \(ambiguous) ambiguous, \(repeats) repeats, \(stats.limitViolations) violations")
    }

    static func makeNodes(directory: URL, database: String, telegram: String) throws -> [RelayProcess] {
        var bot: [String: Any] = [:]
        for (index, name) in bots.enumerated() {
            bot[name] = ["token": token(index), "paid_broadcast": true, "per_second": 300]
        }
        let config = directory.appendingPathComponent("config.json")
        try JSONSerialization.data(withJSONObject: ["bots": bots, "bot": bot]).write(to: config)
        return try ["node-a", "node-b", "node-c"].map { name in
            let home = directory.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
            return try RelayProcess(directory: home, telegramAPI: telegram, token: "", environment: [
                "TGRELAY_DATABASE": database, "TGRELAY_CONFIG": config.path, "TGRELAY_NODE_ID": name,
                "TGRELAY_NODE_LEASE_SECONDS": "\(leaseSeconds)",
            ])
        }
    }

    /// Bot → node holding its lease now, as `/v1/status` shows it.
    static func leaseHolders(_ node: RelayProcess, http: HTTPClient) async throws -> [String: String] {
        let status = try await http.json(.GET, node.baseURL + "/v1/status")
        var holders: [String: String] = [:]
        for bot in status["bots"] as? [[String: Any]] ?? [] {
            if let name = bot["bot"] as? String, let lease = bot["lease"] as? [String: Any], let holder = lease["node"] as? String {
                holders[name] = holder
            }
        }
        return holders
    }
}
