import Logging
import Foundation
import PostgresNIO
import TGRelayCore

/// What the dispatcher reads and writes while working through lanes.
extension PostgresMessageStore {
    /// Distinct lanes over the partial index of non-final messages.
    public func pendingLanes(bot: String?) async throws -> [LaneKey] {
        let rows: [PostgresRandomAccessRow]
        if let bot {
            rows = try await self.rows("""
                SELECT DISTINCT bot, chat FROM message WHERE bot = \(bot) AND status IN \(unescaped: PostgresSchema.pending)
                ORDER BY bot, chat
                """)
        } else {
            rows = try await self.rows(
                "SELECT DISTINCT bot, chat FROM message WHERE status IN \(unescaped: PostgresSchema.pending) ORDER BY bot, chat")
        }
        return try rows.map { LaneKey(bot: try $0.at(0), chat: try $0.at(1)) }
    }

    public func laneHead(_ lane: LaneKey) async throws -> OutboundMessage? {
        try await rows("""
            SELECT \(unescaped: MessageRow.columns) FROM message
            WHERE bot = \(lane.bot) AND chat = \(lane.chat) AND status IN \(unescaped: PostgresSchema.pending)
            ORDER BY seq LIMIT 1
            """).first.map(PostgresRows.message)
    }

    public func markSending(id: Int64, now: Date) async throws -> Bool {
        try await !rows("""
            UPDATE message SET status = 'sending', updated_at = \(now.storeMillis)
            WHERE id = \(id) AND status IN ('queued', 'waiting') RETURNING id
            """).isEmpty
    }

    public func record(_ attempt: AttemptRecord) async throws {
        let chatKey = ledgerChatKey
        try await transaction { [logger] connection in
            let ids = attempt.telegramMessageIDs.isEmpty ? nil : TelegramIDs.encode(attempt.telegramMessageIDs)
            let updated = try await connection.query(
                """
                UPDATE message SET status = \(attempt.newStatus.rawValue),
                    attempts = attempts + \(attempt.countsAsAttempt ? 1 : 0), not_before = \(attempt.notBefore?.storeMillis),
                    last_error = \(attempt.lastError), result = coalesce(\(attempt.result), result),
                    telegram_message_ids = coalesce(\(ids), telegram_message_ids),
                    ambiguous = ambiguous OR \(attempt.ambiguous), updated_at = \(attempt.at.storeMillis)
                WHERE id = \(attempt.messageID)
                RETURNING bot, chat, method, payload_hash
                """, logger: logger
            ).all()
            guard let message = updated.first else {
                throw StoreError(code: .notFound, detail: "message \(attempt.messageID)")
            }
            try await PostgresLedger.append(
                attempt, bot: message.at(0), chat: message.at(1), method: message.at(2), payloadHash: message.at(3),
                chatKey: chatKey, connection, logger: logger)
        }
    }

    public func apply(_ transition: Transition) async throws -> Bool {
        try await !rows("""
            UPDATE message SET status = \(transition.newStatus.rawValue), not_before = \(transition.notBefore?.storeMillis),
                last_error = \(transition.lastError), updated_at = \(transition.at.storeMillis)
            WHERE id = \(transition.messageID) AND status IN \(unescaped: PostgresSchema.pending) RETURNING id
            """).isEmpty
    }

    public func recoverInterruptedSends(now: Date) async throws -> Int {
        try await recoverInterruptedSends(botFilter: nil, now: now)
    }

    /// Messages left `sending` (of one bot, or all) become `waiting` and ambiguous, or `failed` with
    /// `outcome_unknown` when accepted with at_most_once.
    func recoverInterruptedSends(botFilter bot: String?, now: Date) async throws -> Int {
        let nowMillis = now.storeMillis
        return try await transaction { [logger] connection in
            let failed = try await connection.query(
                """
                UPDATE message SET status = 'failed', last_error = 'outcome_unknown', ambiguous = true, updated_at = \(nowMillis)
                WHERE status = 'sending' AND at_most_once AND (\(bot)::text IS NULL OR bot = \(bot)) RETURNING id
                """, logger: logger
            ).all().count
            let waiting = try await connection.query(
                """
                UPDATE message SET status = 'waiting', ambiguous = true, updated_at = \(nowMillis)
                WHERE status = 'sending' AND (\(bot)::text IS NULL OR bot = \(bot)) RETURNING id
                """, logger: logger
            ).all().count
            return failed + waiting
        }
    }

    public func cancel(id: Int64, now: Date) async throws -> OutboundMessage? {
        try await rows("""
            UPDATE message SET status = 'cancelled', updated_at = \(now.storeMillis)
            WHERE id = \(id) AND status IN ('queued', 'waiting')
            """)
        return try await message(id: id)
    }
}
