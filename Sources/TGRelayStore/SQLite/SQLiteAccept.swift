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
            results.append(.created(OutboundMessage(
                id: db.lastInsertedRowID, bot: message.bot, chat: message.chat, method: message.method,
                params: message.params, payloadHash: message.payloadHash, deadline: deadline.map { Date(storeMillis: $0) },
                idempotencyKey: message.idempotencyKey, atMostOnce: message.atMostOnce,
                callbackURL: message.callbackURL, createdAt: now, updatedAt: now
            )))
        }
        return results
    }
}
