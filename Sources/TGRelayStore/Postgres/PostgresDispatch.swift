import Logging
import Foundation
import PostgresNIO
import TGRelayCore

/// What the dispatcher reads and writes while working through lanes.
extension PostgresMessageStore {
    /// A page of distinct lanes, read from the partial index of non-final messages on (bot, chat, seq).
    public func pendingLanes(bot: String?, after: LaneKey?, limit: Int) async throws -> [LaneKey] {
        let pending = PostgresSchema.pending
        let rows: [PostgresRandomAccessRow]
        switch (bot, after) {
        case (let bot?, let after):
            // Within one bot the position is just a chat; a position in another bot is before or after all.
            if let after, after.bot > bot { return [] }
            let chatAfter = after.flatMap { $0.bot == bot ? $0.chat : nil } ?? ""
            rows = try await self.rows("""
                SELECT DISTINCT bot, chat FROM message
                WHERE bot = \(bot) AND chat > \(chatAfter) AND status IN \(unescaped: pending)
                ORDER BY bot, chat LIMIT \(max(0, limit))
                """)
        case (nil, let after?):
            rows = try await self.rows("""
                SELECT DISTINCT bot, chat FROM message
                WHERE (bot, chat) > (\(after.bot), \(after.chat)) AND status IN \(unescaped: pending)
                ORDER BY bot, chat LIMIT \(max(0, limit))
                """)
        case (nil, nil):
            rows = try await self.rows("""
                SELECT DISTINCT bot, chat FROM message WHERE status IN \(unescaped: pending)
                ORDER BY bot, chat LIMIT \(max(0, limit))
                """)
        }
        return try rows.map { LaneKey(bot: try $0.at(0), chat: try $0.at(1)) }
    }

    /// One index probe per lane (a lateral join), all in one statement and so one snapshot.
    public func laneHeads(_ lanes: [LaneKey]) async throws -> [LaneKey: OutboundMessage] {
        guard !lanes.isEmpty else { return [:] }
        let rows = try await self.rows("""
            SELECT m.* FROM unnest(\(lanes.map(\.bot)), \(lanes.map(\.chat))) AS l (bot, chat)
            CROSS JOIN LATERAL (
                SELECT \(unescaped: PostgresRows.messageColumns) FROM message
                WHERE bot = l.bot AND chat = l.chat AND status IN \(unescaped: PostgresSchema.pending)
                ORDER BY seq LIMIT 1
            ) AS m
            """)
        var heads: [LaneKey: OutboundMessage] = [:]
        for row in rows {
            let message = try PostgresRows.message(row)
            heads[LaneKey(bot: message.bot, chat: message.chat)] = message
        }
        return heads
    }

    /// The claim, in one statement: rows another transaction holds (a cancel under way, or — should two
    /// nodes ever both believe they hold the bot's lease — the other node's claim) are skipped, not waited
    /// for, and their lanes simply try again. Each id is one probe of the primary key: with `id = ANY(…)`
    /// and a status test PostgreSQL scanned the whole partial index of pending messages for every claim.
    /// Only `sending_since` changes (see `PostgresSchema.sendingSince`).
    public func markSending(ids: [Int64], now: Date) async throws -> Set<Int64> {
        guard !ids.isEmpty else { return [] }
        return try await Set(rows("""
            UPDATE message SET sending_since = \(now.storeMillis)
            WHERE id IN (
                SELECT m.id FROM unnest(\(ids)::bigint[]) AS c (id) CROSS JOIN LATERAL (
                    SELECT id FROM message
                    WHERE id = c.id AND status IN ('queued', 'waiting') AND sending_since IS NULL
                    FOR UPDATE SKIP LOCKED
                ) AS m
            )
            RETURNING id
            """).map { try $0.at(0, as: Int64.self) })
    }

    /// All attempts in one transaction of two statements whatever the group's size: one UPDATE of every
    /// message (the group as a `jsonb` record set), then the ledger rows in one INSERT. The ledger's chain
    /// row, which every node's appends contend for, is locked once, after the message updates, so it is
    /// held only for the insert and the commit. A group that records one message twice (never the
    /// dispatcher's) goes statement by statement, in order.
    public func record(_ attempts: [AttemptRecord]) async throws {
        guard !attempts.isEmpty else { return }
        let chatKey = ledgerChatKey
        let distinct = Set(attempts.map(\.messageID)).count == attempts.count
        try await transaction { [logger] connection in
            var rows: [LedgerRowSource] = []
            if distinct {
                let updated = try await connection.query(
                    """
                    UPDATE message AS m SET status = u.status, attempts = m.attempts + u.counts, not_before = u.not_before,
                        last_error = u.last_error, result = coalesce(u.result, m.result),
                        telegram_message_ids = coalesce(u.ids, m.telegram_message_ids),
                        ambiguous = m.ambiguous OR u.ambiguous, updated_at = u.at, sending_since = NULL
                    FROM jsonb_to_recordset(\(Self.updates(attempts))::jsonb) AS u (
                        id bigint, status text, counts integer, not_before bigint, last_error text, result text, ids text,
                        ambiguous boolean, at bigint)
                    WHERE m.id = u.id
                    RETURNING m.id, m.bot, m.chat, m.method, m.payload_hash
                    """, logger: logger
                ).all()
                var messages: [Int64: PostgresRandomAccessRow] = [:]
                for row in updated { messages[try row.at(0)] = row }
                for attempt in attempts {
                    guard let message = messages[attempt.messageID] else {
                        throw StoreError(code: .notFound, detail: "message \(attempt.messageID)")
                    }
                    rows.append(try Self.ledgerSource(attempt, message, offset: 1))
                }
            } else {
                for attempt in attempts {
                    let ids = attempt.telegramMessageIDs.isEmpty ? nil : TelegramIDs.encode(attempt.telegramMessageIDs)
                    let updated = try await connection.query(
                        """
                        UPDATE message SET status = \(attempt.newStatus.rawValue),
                            attempts = attempts + \(attempt.countsAsAttempt ? 1 : 0), not_before = \(attempt.notBefore?.storeMillis),
                            last_error = \(attempt.lastError), result = coalesce(\(attempt.result), result),
                            telegram_message_ids = coalesce(\(ids), telegram_message_ids),
                            ambiguous = ambiguous OR \(attempt.ambiguous), updated_at = \(attempt.at.storeMillis),
                            sending_since = NULL
                        WHERE id = \(attempt.messageID)
                        RETURNING bot, chat, method, payload_hash
                        """, logger: logger
                    ).all()
                    guard let message = updated.first else {
                        throw StoreError(code: .notFound, detail: "message \(attempt.messageID)")
                    }
                    rows.append(try Self.ledgerSource(attempt, message, offset: 0))
                }
            }
            try await PostgresLedger.append(rows, chatKey: chatKey, connection, logger: logger)
        }
    }

    /// The message updates of a group as a JSON array for `jsonb_to_recordset`.
    private static func updates(_ attempts: [AttemptRecord]) -> String {
        var records = PostgresRecordSet(rows: attempts.count)
        for attempt in attempts {
            records.record { row in
                row.add("id", attempt.messageID)
                row.add("status", attempt.newStatus.rawValue)
                row.add("counts", attempt.countsAsAttempt ? 1 : 0)
                row.add("not_before", attempt.notBefore?.storeMillis)
                row.add("last_error", attempt.lastError)
                row.add("result", attempt.result)
                row.add("ids", attempt.telegramMessageIDs.isEmpty ? nil : TelegramIDs.encode(attempt.telegramMessageIDs))
                row.add("ambiguous", attempt.ambiguous)
                row.add("at", attempt.at.storeMillis)
            }
        }
        return records.text
    }

    /// The ledger row's message columns (bot, chat, method, payload hash) from a RETURNING row, from `offset` on.
    private static func ledgerSource(_ attempt: AttemptRecord, _ row: PostgresRandomAccessRow, offset: Int) throws -> LedgerRowSource {
        LedgerRowSource(
            attempt: attempt, bot: try row.at(offset), chat: try row.at(offset + 1), method: try row.at(offset + 2),
            payloadHash: try row.at(offset + 3))
    }

    public func apply(_ transition: Transition) async throws -> Bool {
        try await !rows("""
            UPDATE message SET status = \(transition.newStatus.rawValue), not_before = \(transition.notBefore?.storeMillis),
                last_error = \(transition.lastError), updated_at = \(transition.at.storeMillis), sending_since = NULL
            WHERE id = \(transition.messageID) AND status IN \(unescaped: PostgresSchema.pending) RETURNING id
            """).isEmpty
    }

    /// The bot's messages left `sending` become `waiting` and ambiguous, or `failed` with `outcome_unknown`
    /// when accepted with at_most_once. They are found among the bot's pending messages (no index covers the
    /// mark, so that the claim stays a HOT update); status `sending` is what a node of an older version
    /// writes.
    public func recoverInterruptedSends(bot: String, now: Date) async throws -> Int {
        let nowMillis = now.storeMillis
        let pending = PostgresSchema.pending
        return try await transaction { [logger] connection in
            let failed = try await connection.query(
                """
                UPDATE message SET status = 'failed', last_error = 'outcome_unknown', ambiguous = true,
                    updated_at = \(nowMillis), sending_since = NULL
                WHERE bot = \(bot) AND status IN \(unescaped: pending) AND (sending_since IS NOT NULL OR status = 'sending')
                    AND at_most_once
                RETURNING id
                """, logger: logger
            ).all().count
            let waiting = try await connection.query(
                """
                UPDATE message SET status = 'waiting', ambiguous = true, updated_at = \(nowMillis), sending_since = NULL
                WHERE bot = \(bot) AND status IN \(unescaped: pending) AND (sending_since IS NOT NULL OR status = 'sending')
                RETURNING id
                """, logger: logger
            ).all().count
            return failed + waiting
        }
    }

    public func cancel(id: Int64, now: Date) async throws -> OutboundMessage? {
        try await rows("""
            UPDATE message SET status = 'cancelled', updated_at = \(now.storeMillis)
            WHERE id = \(id) AND status IN ('queued', 'waiting') AND sending_since IS NULL
            """)
        return try await message(id: id)
    }
}
