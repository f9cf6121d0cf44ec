import Foundation
import GRDB
import TGRelayCore

/// Dead letters are failed messages; replay puts them back at the end of their lanes.
extension SQLiteMessageStore {
    public func deadLetters(_ filter: DeadLetterFilter) async throws -> [OutboundMessage] {
        try await read { db in try Self.fetchDeadLetters(filter, db) }
    }

    public func replay(ids: [Int64], now: Date) async throws -> [OutboundMessage] {
        guard !ids.isEmpty else { return [] }
        let nowMillis = now.storeMillis
        return try await write { db in try Self.replay(ids, nowMillis: nowMillis, db) }
    }

    public func replayDeadLetters(_ filter: DeadLetterFilter, now: Date) async throws -> [OutboundMessage] {
        let nowMillis = now.storeMillis
        // Selection and replay share one transaction, so a message cannot change between the two.
        return try await write { db in
            try Self.replay(Self.fetchDeadLetters(filter, db).map(\.id), nowMillis: nowMillis, db)
        }
    }

    public func purge(ids: [Int64]) async throws -> [Int64] {
        guard !ids.isEmpty else { return [] }
        return try await write { db in try Self.purge(ids, db) }
    }

    public func purgeDeadLetters(_ filter: DeadLetterFilter) async throws -> [Int64] {
        try await write { db in try Self.purge(Self.fetchDeadLetters(filter, db).map(\.id), db) }
    }

    /// The delete trigger keeps the per-bot counts right; ledger rows are not linked by a foreign key and stay;
    /// a failed message's uploads (kept for a replay) go with it.
    private static func purge(_ ids: [Int64], _ db: Database) throws -> [Int64] {
        let delete = try db.cachedStatement(sql: "DELETE FROM message WHERE id = ? AND status = 'failed' RETURNING id")
        let uploads = try db.cachedStatement(sql: "DELETE FROM message_upload WHERE message_id = ?")
        return try ids.filter { id in
            guard try Int64.fetchOne(delete, arguments: [id]) != nil else { return false }
            try uploads.execute(arguments: [id])
            return true
        }
    }

    /// Newest failure first, through the partial index `message_failed (updated_at, id)`. The reason
    /// filter is a case-insensitive (ASCII) substring match.
    private static func fetchDeadLetters(_ filter: DeadLetterFilter, _ db: Database) throws -> [OutboundMessage] {
        var sql = "SELECT \(MessageRow.sqliteColumns) FROM message WHERE status = 'failed'"
        var arguments = StatementArguments()
        if let bot = filter.bot {
            sql += " AND bot = ?"
            arguments += [bot]
        }
        if let chat = filter.chat {
            sql += " AND chat = ?"
            arguments += [chat]
        }
        if let reason = filter.reasonContains {
            sql += " AND instr(lower(coalesce(last_error, '')), lower(?)) > 0"
            arguments += [reason]
        }
        sql += " ORDER BY updated_at DESC, id DESC LIMIT ?"
        arguments += [max(0, filter.limit)]
        return try Row.fetchAll(db, sql: sql, arguments: arguments).map(MessageRow.decode)
    }

    private static func replay(_ ids: [Int64], nowMillis: Int64, _ db: Database) throws -> [OutboundMessage] {
        guard !ids.isEmpty else { return [] }
        var seq = try MessageSequence.reserve(db, count: ids.count)
        let update = try db.cachedStatement(sql: """
            UPDATE message SET status = 'queued', attempts = 0, not_before = NULL, last_error = NULL, seq = ?,
                updated_at = ?
            WHERE id = ? AND status = 'failed'
            RETURNING \(MessageRow.sqliteColumns)
            """)
        var replayed: [OutboundMessage] = []
        for id in ids {
            if let row = try Row.fetchOne(update, arguments: [seq, nowMillis, id]) {
                replayed.append(try MessageRow.decode(row))
                seq += 1
            }
        }
        return replayed
    }
}
