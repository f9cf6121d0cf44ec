import Logging
import Foundation
import PostgresNIO
import TGRelayCore

/// Dead letters are failed messages; replay puts them back at the end of their lanes.
extension PostgresMessageStore {
    public func deadLetters(_ filter: DeadLetterFilter) async throws -> [OutboundMessage] {
        try await connection { [logger] connection in try await Self.fetchDeadLetters(filter, connection, logger: logger) }
    }

    public func replay(ids: [Int64], now: Date) async throws -> [OutboundMessage] {
        guard !ids.isEmpty else { return [] }
        let nowMillis = now.storeMillis
        return try await transaction { [logger] connection in
            try await Self.replay(ids, nowMillis: nowMillis, connection, logger: logger)
        }
    }

    public func replayDeadLetters(_ filter: DeadLetterFilter, now: Date) async throws -> [OutboundMessage] {
        let nowMillis = now.storeMillis
        // Selection and replay share one transaction, so a message cannot change between the two.
        return try await transaction { [logger] connection in
            let ids = try await Self.fetchDeadLetters(filter, connection, logger: logger).map(\.id)
            return try await Self.replay(ids, nowMillis: nowMillis, connection, logger: logger)
        }
    }

    public func purge(ids: [Int64]) async throws -> [Int64] {
        guard !ids.isEmpty else { return [] }
        return try await transaction { [logger] connection in try await Self.purge(ids, connection, logger: logger) }
    }

    public func purgeDeadLetters(_ filter: DeadLetterFilter) async throws -> [Int64] {
        try await transaction { [logger] connection in
            let ids = try await Self.fetchDeadLetters(filter, connection, logger: logger).map(\.id)
            return try await Self.purge(ids, connection, logger: logger)
        }
    }

    /// Ledger rows are not linked by a foreign key and stay; a failed message's uploads (kept for a replay)
    /// go with it.
    private static func purge(_ ids: [Int64], _ connection: PostgresConnection, logger: Logger) async throws -> [Int64] {
        let deleted = Set(try await connection.query(
            "DELETE FROM message WHERE id = ANY(\(ids)) AND status = 'failed' RETURNING id", logger: logger
        ).all().map { try $0.at(0, as: Int64.self) })
        try await connection.query(
            "DELETE FROM message_upload WHERE message_id = ANY(\(Array(deleted)))", logger: logger)
        return ids.filter { deleted.contains($0) }
    }

    /// Newest failure first. The reason filter is a case-insensitive substring match, as in SQLite.
    private static func fetchDeadLetters(
        _ filter: DeadLetterFilter, _ connection: PostgresConnection, logger: Logger
    ) async throws -> [OutboundMessage] {
        var conditions = ["status = 'failed'"]
        var binds = PostgresBindings()
        if let bot = filter.bot {
            binds.append(bot)
            conditions.append("bot = $\(binds.count)")
        }
        if let chat = filter.chat {
            binds.append(chat)
            conditions.append("chat = $\(binds.count)")
        }
        if let reason = filter.reasonContains {
            binds.append(reason)
            conditions.append("strpos(lower(coalesce(last_error, '')), lower($\(binds.count))) > 0")
        }
        binds.append(max(0, filter.limit))
        let sql = """
            SELECT \(PostgresRows.messageColumns) FROM message WHERE \(conditions.joined(separator: " AND "))
            ORDER BY updated_at DESC, id DESC LIMIT $\(binds.count)
            """
        return try await connection.query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: logger).all()
            .map(PostgresRows.message)
    }

    private static func replay(
        _ ids: [Int64], nowMillis: Int64, _ connection: PostgresConnection, logger: Logger
    ) async throws -> [OutboundMessage] {
        var replayed: [OutboundMessage] = []
        for id in ids {
            let rows = try await connection.query(
                """
                UPDATE message SET status = 'queued', attempts = 0, not_before = NULL, last_error = NULL,
                    seq = nextval('message_seq'), updated_at = \(nowMillis)
                WHERE id = \(id) AND status = 'failed'
                RETURNING \(unescaped: PostgresRows.messageColumns)
                """, logger: logger
            ).all()
            replayed += try rows.map(PostgresRows.message)
        }
        try await PostgresLaneFeed.notify(replayed.map { LaneKey(bot: $0.bot, chat: $0.chat) }, connection, logger: logger)
        return replayed
    }
}
