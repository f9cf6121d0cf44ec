import Foundation
import GRDB
import TGRelayCore

/// What the dispatcher reads and writes while working through lanes.
extension SQLiteMessageStore {
    /// Reads the `lane` table (one row per lane with pending messages, keyed by (bot, chat)), never the
    /// messages: a page is one range scan of its primary key.
    public func pendingLanes(bot: String?, after: LaneKey?, limit: Int) async throws -> [LaneKey] {
        try await read { db in
            let statement: Statement
            var arguments: StatementArguments
            if let bot {
                // Within one bot the position is just a chat; a position in another bot is before or after all.
                if let after, after.bot > bot { return [] }
                let chatAfter = after.flatMap { $0.bot == bot ? $0.chat : nil }
                statement = try db.cachedStatement(sql: chatAfter == nil
                    ? "SELECT bot, chat FROM lane WHERE bot = ? ORDER BY chat LIMIT ?"
                    : "SELECT bot, chat FROM lane WHERE bot = ? AND chat > ? ORDER BY chat LIMIT ?")
                arguments = chatAfter.map { [bot, $0] } ?? [bot]
            } else if let after {
                statement = try db.cachedStatement(
                    sql: "SELECT bot, chat FROM lane WHERE (bot, chat) > (?, ?) ORDER BY bot, chat LIMIT ?")
                arguments = [after.bot, after.chat]
            } else {
                statement = try db.cachedStatement(sql: "SELECT bot, chat FROM lane ORDER BY bot, chat LIMIT ?")
                arguments = []
            }
            arguments += [max(0, limit)]
            return try Row.fetchAll(statement, arguments: arguments).map { LaneKey(bot: $0[0], chat: $0[1]) }
        }
    }

    /// One probe per lane of the partial index `message_lane (bot, chat, seq)`, which holds non-final
    /// messages only, all in one read transaction.
    public func laneHeads(_ lanes: [LaneKey]) async throws -> [LaneKey: OutboundMessage] {
        try await read { db in
            let statement = try db.cachedStatement(sql: """
                SELECT \(MessageRow.sqliteColumns) FROM message INDEXED BY message_lane
                WHERE bot = ? AND chat = ? AND status IN \(SQLiteSchema.pending)
                ORDER BY seq LIMIT 1
                """)
            var heads: [LaneKey: OutboundMessage] = [:]
            heads.reserveCapacity(lanes.count)
            for lane in lanes {
                if let row = try Row.fetchOne(statement, arguments: [lane.bot, lane.chat]) {
                    heads[lane] = try MessageRow.decode(row)
                }
            }
            return heads
        }
    }

    public func markSending(ids: [Int64], now: Date) async throws -> Set<Int64> {
        guard !ids.isEmpty else { return [] }
        let nowMillis = now.storeMillis
        return try await write { db in
            let statement = try db.cachedStatement(sql: """
                INSERT OR IGNORE INTO sending_mark (message_id, marked_at)
                SELECT id, ? FROM message WHERE id = ? AND status IN ('queued', 'waiting')
                """)
            var marked = Set<Int64>(minimumCapacity: ids.count)
            for id in ids {
                try statement.execute(arguments: [nowMillis, id])
                if db.changesCount > 0 { marked.insert(id) }
            }
            return marked
        }
    }

    public func record(_ attempts: [AttemptRecord]) async throws {
        guard !attempts.isEmpty else { return }
        let chatKey = ledgerChatKey
        try await write { db in
            let update = try db.cachedStatement(sql: """
                UPDATE message SET status = ?, attempts = attempts + ?, not_before = ?, last_error = ?,
                    result = coalesce(?, result), telegram_message_ids = coalesce(?, telegram_message_ids),
                    ambiguous = ambiguous OR ?, updated_at = ?
                WHERE id = ?
                """)
            let unmark = try db.cachedStatement(sql: "DELETE FROM sending_mark WHERE message_id = ?")
            var head = try SQLiteLedger.chain(db).head
            for attempt in attempts {
                try unmark.execute(arguments: [attempt.messageID])
                let ids = attempt.telegramMessageIDs.isEmpty ? nil : TelegramIDs.encode(attempt.telegramMessageIDs)
                try update.execute(arguments: [
                    attempt.newStatus.rawValue, attempt.countsAsAttempt ? 1 : 0, attempt.notBefore?.storeMillis,
                    attempt.lastError, attempt.result, ids, attempt.ambiguous, attempt.at.storeMillis,
                    attempt.messageID,
                ])
                guard db.changesCount > 0 else {
                    throw StoreError(code: .notFound, detail: "message \(attempt.messageID)")
                }
                head = try SQLiteLedger.append(attempt, chatKey: chatKey, after: head, db)
            }
            try SQLiteLedger.setHead(head, db)
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
            guard db.changesCount > 0 else { return false }
            try db.executeCached(sql: "DELETE FROM sending_mark WHERE message_id = ?", arguments: [transition.messageID])
            return true
        }
    }

    public func recoverInterruptedSends(bot: String, now: Date) async throws -> Int {
        let nowMillis = now.storeMillis
        return try await write { db in
            let marked = "id IN (SELECT message_id FROM sending_mark) AND bot = ?"
            try db.executeCached(
                sql: """
                    UPDATE message SET status = 'failed', last_error = 'outcome_unknown', ambiguous = 1, updated_at = ?
                    WHERE \(marked) AND at_most_once = 1
                    """,
                arguments: [nowMillis, bot])
            let failed = db.changesCount
            try db.executeCached(
                sql: "UPDATE message SET status = 'waiting', ambiguous = 1, updated_at = ? WHERE \(marked) AND at_most_once = 0",
                arguments: [nowMillis, bot])
            let waiting = db.changesCount
            try db.executeCached(
                sql: "DELETE FROM sending_mark WHERE message_id IN (SELECT id FROM message WHERE \(marked))", arguments: [bot])
            return failed + waiting
        }
    }

    public func cancel(id: Int64, now: Date) async throws -> OutboundMessage? {
        let nowMillis = now.storeMillis
        return try await write { db in
            try db.executeCached(
                sql: """
                    UPDATE message SET status = 'cancelled', updated_at = ?
                    WHERE id = ? AND status IN ('queued', 'waiting') AND id NOT IN (SELECT message_id FROM sending_mark)
                    """,
                arguments: [nowMillis, id])
            return try MessageRow.fetch(db, id: id)
        }
    }
}
