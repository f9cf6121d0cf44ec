import Foundation
import GRDB
import TGRelayCore

/// Reading `message` rows. Columns are read by position (the order of `columns`): it is the hot path of
/// lane heads and dead-letter listings, and avoids a name lookup per column.
enum MessageRow {
    /// The columns both drivers read, in this order.
    static let columns = """
        id, bot, chat, method, params, payload_hash, status, attempts, not_before, deadline, idempotency_key, \
        at_most_once, callback_url, created_at, updated_at, result, telegram_message_ids, last_error, ambiguous, uploads
        """

    /// The same on SQLite, where a message marked `sending` (a `sending_mark` row, see `SQLiteSchema`)
    /// reads as `sending`, updated when it was marked.
    static let sqliteColumns = """
        id, bot, chat, method, params, payload_hash, \
        coalesce((SELECT 'sending' FROM sending_mark WHERE message_id = id), status), attempts, not_before, \
        deadline, idempotency_key, at_most_once, callback_url, created_at, \
        coalesce((SELECT marked_at FROM sending_mark WHERE message_id = id), updated_at), result, \
        telegram_message_ids, last_error, ambiguous, uploads
        """

    static func decode(_ row: Row) throws -> OutboundMessage {
        let statusText: String = row[6]
        guard let status = MessageStatus(rawValue: statusText) else {
            throw StoreError(code: .corrupt, detail: "unknown message status")
        }
        return OutboundMessage(
            id: row[0], bot: row[1], chat: row[2], method: row[3], params: row[4], payloadHash: row[5],
            status: status, attempts: row[7], notBefore: date(row[8]), deadline: date(row[9]),
            idempotencyKey: row[10], atMostOnce: row[11], callbackURL: row[12],
            createdAt: Date(storeMillis: row[13]), updatedAt: Date(storeMillis: row[14]), result: row[15],
            telegramMessageIDs: TelegramIDs.decode(row[16]), lastError: row[17], ambiguous: row[18],
            uploadCount: row[19]
        )
    }

    static func fetch(_ db: Database, id: Int64) throws -> OutboundMessage? {
        let statement = try db.cachedStatement(sql: "SELECT \(sqliteColumns) FROM message WHERE id = ?")
        return try Row.fetchOne(statement, arguments: [id]).map(decode)
    }

    private static func date(_ millis: Int64?) -> Date? {
        millis.map { Date(storeMillis: $0) }
    }
}

/// Hands out lane order: strictly increasing, never reused, shared by all lanes.
enum MessageSequence {
    /// Reserves `count` values and returns the first.
    static func reserve(_ db: Database, count: Int) throws -> Int64 {
        let statement = try db.cachedStatement(
            sql: "UPDATE sequence SET value = value + ? WHERE name = 'message_seq' RETURNING value")
        guard let last = try Int64.fetchOne(statement, arguments: [count]) else {
            throw StoreError(code: .corrupt, detail: "message sequence missing")
        }
        return last - Int64(count) + 1
    }
}

extension Database {
    /// Executes one statement from the connection's statement cache. Statements that touch `message` are
    /// costly to compile (its triggers are compiled with them), and the dispatch path runs the same few
    /// thousands of times a second.
    func executeCached(sql: String, arguments: StatementArguments = StatementArguments()) throws {
        try cachedStatement(sql: sql).execute(arguments: arguments)
    }
}
