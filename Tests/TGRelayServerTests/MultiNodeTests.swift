import FakeTelegram
import Foundation
import Testing

/// Several `tgrelay serve` nodes on one PostgreSQL database (DESIGN.md "Several nodes"): any node accepts,
/// one node at a time dispatches for a bot under a lease, a dead node's bots are taken over within the
/// lease time, and a database restart loses nothing.
@Suite(.serialized, .enabled(if: TestPostgres.isEnabled))
struct MultiNodeTests {
    static let chats = 2000
    static let perChat = 10

    /// One message per chat and round; chat `c` belongs to bot `c % 3`. Private chats, so each lane is held to
    /// Telegram's one message per second per chat; the paid rate paces each bot.
    static func round(_ index: Int, chats: Range<Int>) -> [[String: Any]] {
        chats.map { chat in
            [
                "bot": Cluster.bots[chat % 3], "chat_id": 5_000_000 + chat, "text": "\(index)",
                "allow_paid_broadcast": true, "idempotency_key": "\(chat)-\(index)",
            ]
        }
    }

    @Test func threeNodesDeliverEveryMessageOnceInOrderThroughAKillAndARestart() async throws {
        let cluster = try await Cluster(nodes: 3)
        defer { Task { try await cluster.shutdown() } }
        let total = Self.chats * Self.perChat
        for index in 0..<Self.perChat {
            for (part, start) in stride(from: 0, to: Self.chats, by: 1000).enumerated() {
                try await cluster.accept(Self.round(index, chats: start..<start + 1000), preferring: index + part)
            }
        }

        // Kill -9 the holder of some bot mid-run, then restart another node gracefully.
        #expect(try await eventually(timeout: .seconds(60), every: .milliseconds(100)) {
            cluster.telegram.stats().messagesDelivered >= total / 4
        })
        let holders = try cluster.leaseHolders()
        let victim = holders["b1"].flatMap { Int($0.dropFirst("node".count)) } ?? 1
        let orphaned = Set(holders.filter { $0.value == "node\(victim)" }.keys)
        let killedAt = Date()
        cluster.nodes[victim].kill9()
        #expect(try await eventually(timeout: .seconds(60), every: .milliseconds(100)) {
            cluster.telegram.stats().messagesDelivered >= total / 2
        })
        let restarted = (victim + 1) % 3
        #expect(cluster.nodes[restarted].terminate() == 0)
        try await cluster.nodes[restarted].start(http: cluster.http)

        #expect(try await eventually(timeout: .seconds(180), every: .milliseconds(500)) {
            try cluster.statusCounts().delivered == total
        })
        let counts = try cluster.statusCounts()
        #expect(counts.total == total)

        // Takeover within the lease time: the killed node's bots were sending again soon after the kill.
        for bot in orphaned {
            let resumed = cluster.telegram.messages(bot: Cluster.botID(bot)).map(\.receivedAt).filter { $0 > killedAt }.min()
            let gap = resumed.map { $0.timeIntervalSince(killedAt) } ?? .infinity
            #expect(gap <= cluster.leaseSeconds + 3, "\(bot) resumed \(gap) s after its node was killed")
        }

        // Every message once, in order; a repeat is allowed only right after itself (an ambiguous resend).
        var repeats = 0
        for (lane, texts) in cluster.deliveries() {
            var collapsed: [String] = []
            for text in texts {
                if collapsed.last == text { repeats += 1 } else { collapsed.append(text) }
            }
            #expect(collapsed == (0..<Self.perChat).map(String.init), "lane \(lane) out of order or incomplete")
        }
        #expect(repeats <= counts.ambiguous, "every repeat is a flagged ambiguous message")
        #expect(cluster.telegram.stats().limitViolations == 0)
        #expect(try cluster.verifyLedger() == 0, "the ledger chain written by three nodes verifies")
        print("multi-node: \(total) delivered, \(counts.ambiguous) ambiguous, \(repeats) repeats")
    }

    @Test func databaseRestartMidRunLosesNothing() async throws {
        let cluster = try await Cluster(nodes: 2)
        defer { Task { try await cluster.shutdown() } }
        let chats = 600
        let rounds = 5
        // The restart lands while batches are being accepted: those answer 503 until the database is back.
        async let restart: Void = {
            try await Task.sleep(for: .seconds(2))
            try cluster.database.restartServer()
        }()
        var unavailable = 0
        for index in 0..<rounds {
            for start in stride(from: 0, to: chats, by: 100) {
                unavailable += try await cluster.accept(
                    Self.round(index, chats: start..<start + 100), preferring: start / 100, timeout: .seconds(90))
                try await Task.sleep(for: .milliseconds(100))
            }
        }
        try await restart
        #expect(try await eventually(timeout: .seconds(120), every: .milliseconds(500)) {
            (try? cluster.statusCounts().delivered) == chats * rounds
        })
        for (lane, texts) in cluster.deliveries() {
            var collapsed: [String] = []
            for text in texts where collapsed.last != text { collapsed.append(text) }
            #expect(collapsed == (0..<rounds).map(String.init), "lane \(lane)")
        }
        #expect(cluster.telegram.stats().limitViolations == 0)
        #expect(try cluster.verifyLedger() == 0)
        print("database restart: \(unavailable) accepts answered 503 while it was down")
    }
}
