import Foundation
import GRDB
import TGRelayCore

/// The callback outbox: status callbacks are enqueued by the `message_final_callback` trigger, fallbacks
/// at accept (`SQLiteAccept`), alerts by `enqueueAlert`; all are read and settled here.
extension SQLiteMessageStore {
    static let callbackColumns = """
        id, message_id, url, event, bot, chat, message_attempts, telegram_message_ids, last_error, ambiguous, at, \
        state, tries, next_attempt_at, last_attempt_error, completed_at, payload, cancel_on_fallback
        """

    public func dueCallbacks(now: Date, limit: Int, excludingBots: Set<String>) async throws -> [OwedCallback] {
        let nowMillis = now.storeMillis
        let excluded = Self.jsonArray(excludingBots)
        return try await read { db in
            let statement = try db.cachedStatement(sql: """
                SELECT \(Self.callbackColumns) FROM callback INDEXED BY callback_due
                WHERE state = 'pending' AND next_attempt_at <= ? AND bot NOT IN (SELECT value FROM json_each(?))
                ORDER BY next_attempt_at, id LIMIT ?
                """)
            return try Row.fetchAll(statement, arguments: [nowMillis, excluded, limit]).map(Self.decodeCallback)
        }
    }

    /// Names as a JSON array, for `json_each` (one statement whatever the number of names).
    static func jsonArray(_ names: Set<String>) -> String {
        CanonicalJSON.serialize(.array(names.sorted().map { .string($0) }))
    }

    public func recordCallbackAttempt(id: Int64, at: Date, outcome: CallbackOutcome) async throws {
        let atMillis = at.storeMillis
        try await write { db in
            let (sql, arguments): (String, StatementArguments) =
                switch outcome {
                case .delivered:
                    ("state = 'delivered', completed_at = ?, last_attempt_error = NULL", [atMillis])
                case .retry(let next, let error):
                    ("next_attempt_at = ?, last_attempt_error = ?", [next.storeMillis, error])
                case .gaveUp(let error):
                    ("state = 'failed', completed_at = ?, last_attempt_error = ?", [atMillis, error])
                }
            try db.executeCached(
                sql: "UPDATE callback SET tries = tries + 1, \(sql) WHERE id = ? AND state = 'pending'",
                arguments: arguments + [id])
        }
    }

    public func callbacks(state: CallbackState?, limit: Int) async throws -> [OwedCallback] {
        try await read { db in
            if let state {
                return try Row.fetchAll(
                    db, sql: "SELECT \(Self.callbackColumns) FROM callback WHERE state = ? ORDER BY id DESC LIMIT ?",
                    arguments: [state.rawValue, limit]
                ).map(Self.decodeCallback)
            }
            return try Row.fetchAll(
                db, sql: "SELECT \(Self.callbackColumns) FROM callback ORDER BY id DESC LIMIT ?", arguments: [limit]
            ).map(Self.decodeCallback)
        }
    }

    public func callbacks(messageID: Int64) async throws -> [OwedCallback] {
        try await read { db in
            try Row.fetchAll(
                db, sql: "SELECT \(Self.callbackColumns) FROM callback WHERE message_id = ? ORDER BY id", arguments: [messageID]
            ).map(Self.decodeCallback)
        }
    }

    static func decodeCallback(_ row: Row) throws -> OwedCallback {
        guard let event = CallbackEvent(rawValue: row[3]), let state = CallbackState(rawValue: row[11]) else {
            throw StoreError(code: .corrupt, detail: "unknown callback event or state")
        }
        let completed: Int64? = row[15]
        return OwedCallback(
            id: row[0], messageID: row[1], url: row[2], event: event, bot: row[4], chat: row[5], messageAttempts: row[6],
            telegramMessageIDs: TelegramIDs.decode(row[7]), lastError: row[8], ambiguous: row[9],
            at: Date(storeMillis: row[10]), state: state, tries: row[12], nextAttemptAt: Date(storeMillis: row[13]),
            lastAttemptError: row[14], completedAt: completed.map { Date(storeMillis: $0) }, payload: row[16],
            cancelOnFallback: row[17])
    }

    public func claimFallback(
        id: Int64, now: Date, payload: @escaping @Sendable (OutboundMessage, _ cancelled: Bool) -> String
    ) async throws -> OwedCallback? {
        let nowMillis = now.storeMillis
        return try await write { db in
            let row = try Row.fetchOne(
                db, sql: "SELECT \(Self.callbackColumns) FROM callback WHERE id = ? AND state = 'pending'", arguments: [id])
            guard let owed = try row.map(Self.decodeCallback), owed.isUnclaimedFallback else { return nil }
            guard var message = try MessageRow.fetch(db, id: owed.messageID),
                ![.delivered, .cancelled, .expired].contains(message.status)
            else {
                try db.execute(
                    sql: "UPDATE callback SET state = 'skipped', completed_at = ? WHERE id = ?", arguments: [nowMillis, id])
                return nil
            }
            var cancelled = false
            if owed.cancelOnFallback, [.queued, .waiting].contains(message.status) {
                // Through the same statement as an API cancel, so the status callback is owed as usual.
                try db.execute(
                    sql: "UPDATE message SET status = 'cancelled', last_error = 'cancelled on fallback', updated_at = ? WHERE id = ?",
                    arguments: [nowMillis, message.id])
                message.status = .cancelled
                message.lastError = "cancelled on fallback"
                cancelled = true
            }
            let body = payload(message, cancelled)
            try db.execute(
                sql: """
                    UPDATE callback SET payload = ?, message_attempts = ?, telegram_message_ids = ?, last_error = ?,
                        ambiguous = ? WHERE id = ?
                    """,
                arguments: [
                    body, message.attempts, TelegramIDs.encode(message.telegramMessageIDs), message.lastError, message.ambiguous, id,
                ])
            return owed.claimed(payload: body, message: message)
        }
    }

    public func enqueueAlert(url: String, event: CallbackEvent, bot: String, payload: String, at: Date) async throws {
        let atMillis = at.storeMillis
        try await write { db in
            try db.execute(
                sql: """
                    INSERT INTO callback (message_id, url, event, bot, chat, message_attempts, telegram_message_ids, ambiguous,
                        at, next_attempt_at, payload)
                    VALUES (0, ?, ?, ?, '', 0, '', 0, ?, ?, ?)
                    """,
                arguments: [url, event.rawValue, bot, atMillis, atMillis, payload])
        }
    }

    /// Owes the fallbacks of messages just inserted, in the accept transaction.
    static func insertFallbacks(_ messages: [(id: Int64, message: NewMessage)], _ db: Database) throws {
        let statement = try db.cachedStatement(
            sql: """
                INSERT INTO callback (message_id, url, event, bot, chat, message_attempts, telegram_message_ids, ambiguous,
                    at, next_attempt_at, cancel_on_fallback)
                VALUES (?, ?, 'fallback', ?, ?, 0, '', 0, ?, ?, ?)
                """)
        for (id, message) in messages {
            guard let fallback = message.fallback else { continue }
            let due = fallback.due.storeMillis
            try statement.execute(arguments: [id, fallback.url, message.bot, message.chat, due, due, fallback.cancelDelivery])
        }
    }
}
