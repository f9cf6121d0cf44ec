import Logging
import Foundation
import PostgresNIO
import TGRelayCore

/// Status callbacks: enqueued by the `message_final_callback` trigger, read and settled here.
extension PostgresMessageStore {
    public func dueCallbacks(now: Date, limit: Int) async throws -> [OwedCallback] {
        try await rows("""
            SELECT \(unescaped: SQLiteMessageStore.callbackColumns) FROM callback
            WHERE state = 'pending' AND next_attempt_at <= \(now.storeMillis) ORDER BY next_attempt_at, id LIMIT \(limit)
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
}
