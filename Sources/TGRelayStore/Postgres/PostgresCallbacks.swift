import Logging
import Foundation
import PostgresNIO
import TGRelayCore

/// Status callbacks: enqueued by the `message_final_callback` trigger, read and settled here.
extension PostgresMessageStore {
    public func dueCallbacks(now: Date, limit: Int, excludingBots: Set<String>) async throws -> [OwedCallback] {
        try await rows("""
            SELECT \(unescaped: SQLiteMessageStore.callbackColumns) FROM callback
            WHERE state = 'pending' AND next_attempt_at <= \(now.storeMillis) AND NOT (bot = ANY(\(excludingBots.sorted())))
            ORDER BY next_attempt_at, id LIMIT \(limit)
            """).map(PostgresRows.callback)
    }

    public func recordCallbackAttempt(id: Int64, at: Date, outcome: CallbackOutcome) async throws {
        let atMillis = at.storeMillis
        switch outcome {
        case .delivered:
            try await rows("""
                UPDATE callback SET tries = tries + 1, state = 'delivered', completed_at = \(atMillis),
                    last_attempt_error = NULL
                WHERE id = \(id) AND state = 'pending'
                """)
        case .retry(let next, let error):
            try await rows("""
                UPDATE callback SET tries = tries + 1, next_attempt_at = \(next.storeMillis), last_attempt_error = \(error)
                WHERE id = \(id) AND state = 'pending'
                """)
        case .gaveUp(let error):
            try await rows("""
                UPDATE callback SET tries = tries + 1, state = 'failed', completed_at = \(atMillis),
                    last_attempt_error = \(error)
                WHERE id = \(id) AND state = 'pending'
                """)
        }
    }

    public func callbacks(state: CallbackState?, limit: Int) async throws -> [OwedCallback] {
        if let state {
            return try await rows("""
                SELECT \(unescaped: SQLiteMessageStore.callbackColumns) FROM callback WHERE state = \(state.rawValue)
                ORDER BY id DESC LIMIT \(limit)
                """).map(PostgresRows.callback)
        }
        return try await rows(
            "SELECT \(unescaped: SQLiteMessageStore.callbackColumns) FROM callback ORDER BY id DESC LIMIT \(limit)"
        ).map(PostgresRows.callback)
    }

    public func callbacks(messageID: Int64) async throws -> [OwedCallback] {
        try await rows("""
            SELECT \(unescaped: SQLiteMessageStore.callbackColumns) FROM callback WHERE message_id = \(messageID) ORDER BY id
            """).map(PostgresRows.callback)
    }

    public func claimFallback(
        id: Int64, now: Date, payload: @escaping @Sendable (OutboundMessage, _ cancelled: Bool) -> String
    ) async throws -> OwedCallback? {
        let nowMillis = now.storeMillis
        return try await transaction { [logger] connection in
            // The row lock makes a second claim (another node) wait and then find the fallback claimed.
            let row = try await connection.query(
                """
                SELECT \(unescaped: SQLiteMessageStore.callbackColumns) FROM callback
                WHERE id = \(id) AND state = 'pending' FOR UPDATE
                """, logger: logger
            ).all().first
            guard let owed = try row.map(PostgresRows.callback), owed.isUnclaimedFallback else { return nil }
            let messageRow = try await connection.query(
                "SELECT \(unescaped: PostgresRows.messageColumns) FROM message WHERE id = \(owed.messageID) FOR UPDATE", logger: logger
            ).all().first
            guard var message = try messageRow.map(PostgresRows.message),
                ![.delivered, .cancelled, .expired].contains(message.status)
            else {
                try await connection.query(
                    "UPDATE callback SET state = 'skipped', completed_at = \(nowMillis) WHERE id = \(id)", logger: logger)
                return nil
            }
            var cancelled = false
            if owed.cancelOnFallback, [.queued, .waiting].contains(message.status) {
                // Through the same kind of statement as an API cancel, so the status callback is owed as usual.
                try await connection.query(
                    """
                    UPDATE message SET status = 'cancelled', last_error = 'cancelled on fallback', updated_at = \(nowMillis)
                    WHERE id = \(message.id)
                    """, logger: logger)
                message.status = .cancelled
                message.lastError = "cancelled on fallback"
                cancelled = true
            }
            let body = payload(message, cancelled)
            try await connection.query(
                """
                UPDATE callback SET payload = \(body), message_attempts = \(message.attempts),
                    telegram_message_ids = \(TelegramIDs.encode(message.telegramMessageIDs)),
                    last_error = \(message.lastError), ambiguous = \(message.ambiguous)
                WHERE id = \(id)
                """, logger: logger)
            return owed.claimed(payload: body, message: message)
        }
    }

    public func uploads(messageID: Int64) async throws -> [FileUpload] {
        try await rows("""
            SELECT field, file_name, content_type, data FROM message_upload WHERE message_id = \(messageID) ORDER BY id
            """).map { row in
            let data = try row.at(3, as: ByteBuffer.self)
            return FileUpload(
                field: try row.at(0), fileName: try row.at(1), contentType: try row.at(2), data: Array(data.readableBytesView))
        }
    }

    public func enqueueAlert(url: String, event: CallbackEvent, bot: String, payload: String, at: Date) async throws {
        let atMillis = at.storeMillis
        try await rows("""
            INSERT INTO callback (message_id, url, event, bot, chat, message_attempts, telegram_message_ids, ambiguous,
                at, next_attempt_at, payload)
            VALUES (0, \(url), \(event.rawValue), \(bot), '', 0, '', false, \(atMillis), \(atMillis), \(payload))
            """)
    }

    /// Owes the fallbacks of messages just inserted, in the accept transaction.
    static func insertFallbacks(_ messages: [(id: Int64, message: NewMessage)], _ connection: PostgresConnection, logger: Logger) async throws {
        for (id, message) in messages {
            guard let fallback = message.fallback else { continue }
            let due = fallback.due.storeMillis
            try await connection.query(
                """
                INSERT INTO callback (message_id, url, event, bot, chat, message_attempts, telegram_message_ids, ambiguous,
                    at, next_attempt_at, cancel_on_fallback)
                VALUES (\(id), \(fallback.url), 'fallback', \(message.bot), \(message.chat), 0, '', false, \(due), \(due),
                    \(fallback.cancelDelivery))
                """, logger: logger)
        }
    }
}
