import Foundation
import PostgresNIO
import TGRelayCore

/// Decoding rows by position, in the column orders the SQLite driver uses (`MessageRow.columns`,
/// `SQLiteLedger.columns`, `SQLiteMessageStore.callbackColumns`), so both drivers read the same shapes.
enum PostgresRows {
    /// `MessageRow.columns` as PostgreSQL reads them: a message whose `sending_since` is set (the claim, see
    /// `PostgresSchema.sendingSince`) reads as `sending`, updated when it was claimed.
    static let messageColumns = """
        id, bot, chat, method, params, payload_hash, \
        CASE WHEN sending_since IS NOT NULL THEN 'sending' ELSE status END, attempts, not_before, deadline, \
        idempotency_key, at_most_once, callback_url, created_at, coalesce(sending_since, updated_at), result, \
        telegram_message_ids, last_error, ambiguous, uploads
        """

    static func message(_ row: PostgresRandomAccessRow) throws -> OutboundMessage {
        guard let status = MessageStatus(rawValue: try row.at(6)) else {
            throw StoreError(code: .corrupt, detail: "unknown message status")
        }
        return OutboundMessage(
            id: try row.at(0), bot: try row.at(1), chat: try row.at(2), method: try row.at(3), params: try row.at(4),
            payloadHash: try row.at(5), status: status, attempts: try row.at(7), notBefore: try date(row, 8),
            deadline: try date(row, 9), idempotencyKey: try row.at(10), atMostOnce: try row.at(11),
            callbackURL: try row.at(12), createdAt: Date(storeMillis: try row.at(13)),
            updatedAt: Date(storeMillis: try row.at(14)), result: try row.at(15),
            telegramMessageIDs: TelegramIDs.decode(try row.at(16)), lastError: try row.at(17), ambiguous: try row.at(18),
            uploadCount: try row.at(19))
    }

    static func ledgerEntry(_ row: PostgresRandomAccessRow) throws -> LedgerEntry {
        LedgerEntry(
            seq: try row.at(0), at: Date(storeMillis: try row.at(1)), messageID: try row.at(2), bot: try row.at(3),
            chat: try row.at(4), method: try row.at(5), payloadHash: try row.at(6), endpoint: try row.at(7),
            httpStatus: try row.at(8), ok: try row.at(9, as: Int.self) != 0, errorCode: try row.at(10),
            description: try row.at(11), retryAfter: try row.at(12),
            telegramMessageIDs: TelegramIDs.decode(try row.at(13)),
            durationMs: Double(try row.at(14, as: Int64.self)) / 1000, responseBody: try row.at(15),
            outcome: try row.at(16), ambiguous: try row.at(17, as: Int.self) != 0, prevHash: try row.at(18),
            hash: try row.at(19))
    }

    static func callback(_ row: PostgresRandomAccessRow) throws -> OwedCallback {
        guard let event = CallbackEvent(rawValue: try row.at(3)), let state = CallbackState(rawValue: try row.at(11)) else {
            throw StoreError(code: .corrupt, detail: "unknown callback event or state")
        }
        return OwedCallback(
            id: try row.at(0), messageID: try row.at(1), url: try row.at(2), event: event, bot: try row.at(4),
            chat: try row.at(5), messageAttempts: try row.at(6), telegramMessageIDs: TelegramIDs.decode(try row.at(7)),
            lastError: try row.at(8), ambiguous: try row.at(9), at: Date(storeMillis: try row.at(10)), state: state,
            tries: try row.at(12), nextAttemptAt: Date(storeMillis: try row.at(13)), lastAttemptError: try row.at(14),
            completedAt: try date(row, 15), payload: try row.at(16), cancelOnFallback: try row.at(17))
    }

    private static func date(_ row: PostgresRandomAccessRow, _ index: Int) throws -> Date? {
        try row.at(index, as: Int64?.self).map { Date(storeMillis: $0) }
    }
}
