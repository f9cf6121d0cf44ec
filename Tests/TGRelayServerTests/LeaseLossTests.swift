import FakeTelegram
import Foundation
import Testing

/// A node that loses a bot's lease stops sending for it at once (DESIGN.md "Several nodes"): another
/// node's name is written into the lease while a backlog drains, and nothing more leaves; once the lease
/// is free again the node takes the bot back and the rest is delivered, each message once, in order.
/// Runs on the SQLite file (leases behave alike on both drivers), the real binary and the simulator.
@Suite(.serialized)
struct LeaseLossTests {
    static let chats = 20
    static let perChat = 10

    @Test func aNodeWhoseLeaseIsTakenStopsSendingAndResumesWhenItIsBack() async throws {
        let bed = try await TestBed(limits: .telegram, environment: ["TGRELAY_NODE_ID": "node-a", "TGRELAY_NODE_LEASE_SECONDS": "2"])
        defer { Task { try await bed.shutdown() } }
        let messages: [[String: Any]] = (0..<Self.perChat).flatMap { index in
            (0..<Self.chats).map { chat in ["chat_id": 71_000 + chat, "text": "\(index)"] as [String: Any] }
        }
        let accepted = try await bed.post("/messages/batch", ["messages": messages])
        #expect(accepted.status == 202)
        let ids = ((accepted["messages"] as? [[String: Any]]) ?? []).compactMap { $0["id"] as? Int }
        #expect(ids.count == messages.count)
        #expect(try await eventually(timeout: .seconds(20)) { bed.telegram.stats().messagesDelivered >= 40 })

        // Another node's lease, valid for ten minutes.
        try Self.sql(bed, "UPDATE bot_lease SET node = 'node-b', expires_at = CAST(strftime('%s', 'now') AS INTEGER) * 1000 + 600000, epoch = epoch + 1")
        // The next renewal (every half second) is refused; sends already out finish.
        try await Task.sleep(for: .seconds(1.5))
        let atStop = bed.telegram.stats().messagesDelivered
        #expect(atStop < messages.count, "the backlog was still draining")
        try await Task.sleep(for: .seconds(3))
        #expect(bed.telegram.stats().messagesDelivered == atStop, "nothing left after the lease went")
        #expect(bed.relay.logText.contains("bot lease lost"))
        let status = try await bed.http.json(.GET, bed.api + "/status")
        let lease = (status["bots"] as? [[String: Any]])?.first?["lease"] as? [String: Any]
        #expect(lease?["node"] as? String == "node-b")
        #expect(lease?["held_here"] as? Bool == false)

        // The lease lapses: the node takes the bot back and the rest goes out.
        try Self.sql(bed, "UPDATE bot_lease SET expires_at = 0")
        let final = try await bed.waitFinal(ids, timeout: .seconds(60))
        #expect(final.values.allSatisfy { $0["status"] as? String == "delivered" })
        #expect(final.values.allSatisfy { $0["ambiguous"] as? Bool == false }, "no send was cut off")
        for chat in 0..<Self.chats {
            #expect(bed.deliveredTexts(chat: String(71_000 + chat)) == (0..<Self.perChat).map(String.init), "chat \(chat): each once, in order")
        }
        let stats = bed.telegram.stats()
        #expect(stats.duplicatePayloads == 0)
        #expect(stats.limitViolations == 0)
    }

    /// Writes to the relay's SQLite file from another process, as a second node's store access would.
    static func sql(_ bed: TestBed, _ statement: String) throws {
        let result = try runProcess("/usr/bin/env", [
            "python3", "-c",
            "import sqlite3, sys; c = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=10); c.execute(sys.argv[2])",
            bed.relay.databasePath, statement,
        ])
        #expect(result.status == 0, "\(result.output)")
    }
}
