import Foundation
import GRDB
import TGRelayCore

extension SQLiteMessageStore {
    public func accept(_ messages: [NewMessage], now: Date) async throws -> [AcceptResult] {
        guard !messages.isEmpty else { return [] }
        let nowMillis = now.storeMillis
        return try await write { db in try Self.insert(messages, nowMillis: nowMillis, db) }
    }

    /// Runs inside the writer's transaction, so the idempotency lookup and the insert cannot race with
    /// another accept: concurrent identical requests find each other's rows, whether they share the
    /// group commit or not, and so do duplicates within one call.
    private static func insert(_ messages: [NewMessage], nowMillis: Int64, _ db: Database) throws -> [AcceptResult] {
        var seq = try MessageSequence.reserve(db, count: messages.count)
        let findKey = try db.cachedStatement(
            sql: "SELECT \(MessageRow.columns) FROM message WHERE bot = ? AND idempotency_key = ?")
        let insert = try db.cachedStatement(sql: """
            INSERT INTO message (seq, bot, chat, method, params, payload_hash, status, deadline,
                idempotency_key, at_most_once, callback_url, created_at, updated_at)
            VALUES (?, ?, ?, ?, ?, ?, 'queued', ?, ?, ?, ?, ?, ?)
            """)
        let now = Date(storeMillis: nowMillis)
        var laneCounts: [LaneKey: Int] = [:]
        var results: [AcceptResult] = []
        results.reserveCapacity(messages.count)
        for message in messages {
            if let key = message.idempotencyKey, let row = try Row.fetchOne(findKey, arguments: [message.bot, key]) {
                let existing = try MessageRow.decode(row)
                results.append(
                    existing.payloadHash == message.payloadHash ? .existing(existing) : .conflict(existingID: existing.id))
                continue
            }
            let deadline = message.deadline?.storeMillis
            try insert.execute(arguments: [
                seq, message.bot, message.chat, message.method, message.params, message.payloadHash, deadline,
                message.idempotencyKey, message.atMostOnce, message.callbackURL, nowMillis, nowMillis,
            ])
            seq += 1
            laneCounts[LaneKey(bot: message.bot, chat: message.chat), default: 0] += 1
            results.append(.created(OutboundMessage(
                id: db.lastInsertedRowID, bot: message.bot, chat: message.chat, method: message.method,
                params: message.params, payloadHash: message.payloadHash, deadline: deadline.map { Date(storeMillis: $0) },
                idempotencyKey: message.idempotencyKey, atMostOnce: message.atMostOnce,
                callbackURL: message.callbackURL, createdAt: now, updatedAt: now
            )))
        }
        try addCounts(laneCounts, db)
        return results
    }

    /// What an insert trigger would do, once per lane and per bot: `lane` and `bot_status_count` (see
    /// `SQLiteSchema`) count the new queued messages.
    private static func addCounts(_ laneCounts: [LaneKey: Int], _ db: Database) throws {
        var botCounts: [String: Int] = [:]
        for (lane, count) in laneCounts {
            botCounts[lane.bot, default: 0] += count
            try db.executeCached(
                sql: """
                    INSERT INTO lane (bot, chat, pending) VALUES (?, ?, ?)
                    ON CONFLICT (bot, chat) DO UPDATE SET pending = pending + excluded.pending
                    """,
                arguments: [lane.bot, lane.chat, count])
        }
        for (bot, count) in botCounts {
            try db.executeCached(
                sql: """
                    INSERT INTO bot_status_count (bot, status, n) VALUES (?, 'queued', ?)
                    ON CONFLICT (bot, status) DO UPDATE SET n = n + excluded.n
                    """,
                arguments: [bot, count])
        }
    }
}
