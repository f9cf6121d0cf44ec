import Foundation
import GRDB
import TGRelayCore

/// What the dispatcher reads and writes while working through lanes.
extension SQLiteMessageStore {
    /// Reads the `lane` table (one row per lane with pending messages), never the messages.
    public func pendingLanes(bot: String?) async throws -> [LaneKey] {
        try await read { db in
            let rows: [Row]
            if let bot {
                rows = try Row.fetchAll(db, sql: "SELECT bot, chat FROM lane WHERE bot = ? ORDER BY chat", arguments: [bot])
            } else {
                rows = try Row.fetchAll(db, sql: "SELECT bot, chat FROM lane ORDER BY bot, chat")
            }
            return rows.map { LaneKey(bot: $0[0], chat: $0[1]) }
        }
    }

    /// One probe of the partial index `message_lane (bot, chat, seq)`, which holds non-final messages only.
    public func laneHead(_ lane: LaneKey) async throws -> OutboundMessage? {
        try await read { db in
            let statement = try db.cachedStatement(sql: """
                SELECT \(MessageRow.columns) FROM message INDEXED BY message_lane
                WHERE bot = ? AND chat = ? AND status IN \(SQLiteSchema.pending)
                ORDER BY seq LIMIT 1
                """)
            return try Row.fetchOne(statement, arguments: [lane.bot, lane.chat]).map(MessageRow.decode)
        }
    }

    public func markSending(id: Int64, now: Date) async throws -> Bool {
        let nowMillis = now.storeMillis
        return try await write { db in
            try db.executeCached(
                sql: "UPDATE message SET status = 'sending', updated_at = ? WHERE id = ? AND status IN ('queued', 'waiting')",
                arguments: [nowMillis, id])
            return db.changesCount > 0
        }
    }

    public func record(_ attempt: AttemptRecord) async throws {
        let chatKey = ledgerChatKey
        try await write { db in
            let ids = attempt.telegramMessageIDs.isEmpty ? nil : TelegramIDs.encode(attempt.telegramMessageIDs)
            try db.executeCached(
                sql: """
                    UPDATE message SET status = ?, attempts = attempts + ?, not_before = ?, last_error = ?,
                        result = coalesce(?, result), telegram_message_ids = coalesce(?, telegram_message_ids),
                        ambiguous = ambiguous OR ?, updated_at = ?
                    WHERE id = ?
                    """,
                arguments: [
                    attempt.newStatus.rawValue, attempt.countsAsAttempt ? 1 : 0, attempt.notBefore?.storeMillis,
                    attempt.lastError, attempt.result, ids, attempt.ambiguous, attempt.at.storeMillis,
                    attempt.messageID,
                ])
            guard db.changesCount > 0 else {
                throw StoreError(code: .notFound, detail: "message \(attempt.messageID)")
            }
            try SQLiteLedger.append(attempt, chatKey: chatKey, db)
        }
    }

    public func apply(_ transition: Transition) async throws -> Bool {
        try await write { db in
            try db.executeCached(
                sql: """
                    UPDATE message SET status = ?, not_before = ?, last_error = ?, updated_at = ?
                    WHERE id = ? AND status IN \(SQLiteSchema.pending)
                    """,
                arguments: [
                    transition.newStatus.rawValue, transition.notBefore?.storeMillis, transition.lastError,
                    transition.at.storeMillis, transition.messageID,
                ])
            return db.changesCount > 0
        }
    }

    public func recoverInterruptedSends(now: Date) async throws -> Int {
        let nowMillis = now.storeMillis
        return try await write { db in
            try db.executeCached(
                sql: """
                    UPDATE message SET status = 'failed', last_error = 'outcome_unknown', ambiguous = 1, updated_at = ?
                    WHERE status = 'sending' AND at_most_once = 1
                    """,
                arguments: [nowMillis])
            let failed = db.changesCount
            try db.executeCached(
                sql: "UPDATE message SET status = 'waiting', ambiguous = 1, updated_at = ? WHERE status = 'sending'",
                arguments: [nowMillis])
            return failed + db.changesCount
        }
    }

    public func cancel(id: Int64, now: Date) async throws -> OutboundMessage? {
        let nowMillis = now.storeMillis
        return try await write { db in
            try db.executeCached(
                sql: "UPDATE message SET status = 'cancelled', updated_at = ? WHERE id = ? AND status IN ('queued', 'waiting')",
                arguments: [nowMillis, id])
            return try MessageRow.fetch(db, id: id)
        }
    }
}
