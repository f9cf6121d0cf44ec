import Foundation
import Logging
import PostgresNIO
import TGRelayCore

/// The inbox of inbound updates (`InboxStore`) on PostgreSQL: the same rules as the SQLite driver. Counts
/// come from grouping the table (bounded by retention) rather than from counter rows, which would serialize
/// the nodes storing updates of one bot.
extension PostgresMessageStore {
    public func storeUpdates(bot: String, _ updates: [InboundUpdate], now: Date) async throws -> [InboundUpdate] {
        guard !updates.isEmpty else { return [] }
        let nowMillis = now.storeMillis
        return try await transaction { [logger] connection in
            let push = try await PostgresInbox.settings(connection, bot: bot, logger: logger).push
            // Locks the bot's row, so that concurrent webhook deliveries agree on the numbering.
            var numbering = UpdateNumbering()
            for try await (shift, highest, received) in try await connection.query(
                "SELECT update_id_shift, last_update_id, last_received_at FROM inbox_bot WHERE bot = \(bot) FOR UPDATE", logger: logger
            ).decode((Int64, Int64?, Int64?).self) {
                numbering = UpdateNumbering(shift: shift, highest: highest, lastReceivedAt: received.map(Date.init(storeMillis:)))
            }
            let shift = numbering.shift(forTelegramIDs: updates.map(\.updateID), now: now)
            let renumbered = updates.map { $0.renumbered(by: shift) }
            // A push target that does not take a type never receives it, as Telegram never creates it.
            let states = renumbered.map { update in
                push.map { $0.accepts(update.type) } == false ? InboxState.done.rawValue : InboxState.pending.rawValue
            }
            // An empty string stands for "no chat" in the array (chat ids and usernames are never empty).
            let inserted = try await connection.query(
                """
                INSERT INTO inbox_update (bot, update_id, type, chat, json, received_at, state, next_push_at, push_owed_since)
                SELECT \(bot), u.id, u.type, nullif(u.chat, ''), u.json, \(nowMillis), u.state, \(nowMillis), \(nowMillis)
                FROM unnest(\(renumbered.map(\.updateID)), \(renumbered.map(\.type)), \(renumbered.map { $0.chat ?? "" }),
                    \(renumbered.map(\.json)), \(states)) AS u (id, type, chat, json, state)
                ON CONFLICT (bot, update_id) DO NOTHING RETURNING update_id
                """, logger: logger
            ).all()
            let insertedIDs = Set(try inserted.map { try $0.at(0, as: Int64.self) })
            var stored: [InboundUpdate] = []
            for update in renumbered where insertedIDs.contains(update.updateID) && !stored.contains(where: { $0.updateID == update.updateID }) {
                stored.append(update)
            }
            let reactivated = stored.filter(\.reactivatesChat).compactMap(\.chat)
            if !reactivated.isEmpty {
                try await connection.query(
                    "DELETE FROM inactive_chat WHERE bot = \(bot) AND chat = ANY(\(reactivated))", logger: logger)
            }
            guard let highest = stored.map(\.updateID).max() else { return stored }
            try await connection.query(
                """
                INSERT INTO inbox_bot (bot, last_update_id, update_id_shift, last_received_at)
                VALUES (\(bot), \(highest), \(shift), \(nowMillis))
                ON CONFLICT (bot) DO UPDATE SET last_update_id = greatest(inbox_bot.last_update_id, excluded.last_update_id),
                    update_id_shift = excluded.update_id_shift, last_received_at = excluded.last_received_at
                """, logger: logger)
            return stored
        }
    }

    public func pendingUpdates(bot: String, from: Int64, types: [String]?, limit: Int) async throws -> [StoredUpdate] {
        let rows: [PostgresRandomAccessRow]
        if let types {
            rows = try await self.rows("""
                SELECT \(unescaped: SQLiteMessageStore.updateColumns) FROM inbox_update
                WHERE bot = \(bot) AND state = 'pending' AND update_id >= \(from) AND type = ANY(\(types))
                ORDER BY update_id LIMIT \(limit)
                """)
        } else {
            rows = try await self.rows("""
                SELECT \(unescaped: SQLiteMessageStore.updateColumns) FROM inbox_update
                WHERE bot = \(bot) AND state = 'pending' AND update_id >= \(from) ORDER BY update_id LIMIT \(limit)
                """)
        }
        return try rows.map(PostgresInbox.update)
    }

    public func confirmUpdates(bot: String, below offset: Int64, now: Date) async throws -> Int {
        try await rows("""
            UPDATE inbox_update SET state = 'done', completed_at = \(now.storeMillis)
            WHERE bot = \(bot) AND state = 'pending' AND update_id < \(offset) RETURNING update_id
            """).count
    }

    public func storedUpdate(bot: String, updateID: Int64) async throws -> StoredUpdate? {
        try await rows("""
            SELECT \(unescaped: SQLiteMessageStore.updateColumns) FROM inbox_update WHERE bot = \(bot) AND update_id = \(updateID)
            """).first.map(PostgresInbox.update)
    }

    public func inboxSettings(bot: String) async throws -> InboxSettings {
        try await connection { [logger] connection in try await PostgresInbox.settings(connection, bot: bot, logger: logger) }
    }

    public func setInboundMode(bot: String, _ mode: InboundMode) async throws {
        let secret: String? =
            switch mode {
            case .polling: nil
            case .webhook(let secret): secret
            }
        try await rows("""
            INSERT INTO inbox_bot (bot, webhook_secret) VALUES (\(bot), \(secret))
            ON CONFLICT (bot) DO UPDATE SET webhook_secret = excluded.webhook_secret
            """)
    }

    public func setPushTarget(bot: String, _ target: PushTarget?, dropPending: Bool, now: Date) async throws {
        let nowMillis = now.storeMillis
        try await transaction { [logger] connection in
            if dropPending {
                try await connection.query(
                    "UPDATE inbox_update SET state = 'done', completed_at = \(nowMillis) WHERE bot = \(bot) AND state = 'pending'",
                    logger: logger)
            }
            try await connection.query(
                """
                INSERT INTO inbox_bot (bot, push_url, push_secret_token, push_allowed_updates, push_max_connections)
                VALUES (\(bot), \(target?.url), \(target?.secretToken), \(InboxSettings.column(target?.allowedUpdates)),
                    \(target?.maxConnections))
                ON CONFLICT (bot) DO UPDATE SET push_url = excluded.push_url, push_secret_token = excluded.push_secret_token,
                    push_allowed_updates = excluded.push_allowed_updates, push_max_connections = excluded.push_max_connections
                """, logger: logger)
            guard let target else { return }
            // What is pending now is owed to the new URL from now on, with a fresh retry budget.
            try await connection.query(
                """
                UPDATE inbox_update SET next_push_at = \(nowMillis), push_owed_since = \(nowMillis), push_tries = 0,
                    last_push_error = NULL
                WHERE bot = \(bot) AND state = 'pending'
                """, logger: logger)
            if let allowed = target.allowedUpdates, !allowed.isEmpty {
                try await connection.query(
                    """
                    UPDATE inbox_update SET state = 'done', completed_at = \(nowMillis)
                    WHERE bot = \(bot) AND state = 'pending' AND NOT (type = ANY(\(allowed)))
                    """, logger: logger)
            }
        }
    }

    public func setConsumerAllowedUpdates(bot: String, _ types: [String]?) async throws {
        try await transaction { [logger] connection in
            try await connection.query(
                """
                INSERT INTO inbox_bot (bot, consumer_allowed_updates) VALUES (\(bot), \(InboxSettings.column(types)))
                ON CONFLICT (bot) DO UPDATE SET consumer_allowed_updates = excluded.consumer_allowed_updates
                """, logger: logger)
        }
    }

    public func duePushes(now: Date, limit: Int, excludingBots: Set<String>) async throws -> [StoredUpdate] {
        // The head of each chat's pending updates: a chat's next update waits until its head is settled.
        try await rows("""
            SELECT \(unescaped: SQLiteMessageStore.updateColumns) FROM (
                SELECT DISTINCT ON (p.bot, p.chat) p.* FROM inbox_update p
                JOIN inbox_bot b ON b.bot = p.bot AND b.push_url IS NOT NULL
                WHERE p.state = 'pending' AND NOT (p.bot = ANY(\(excludingBots.sorted())))
                ORDER BY p.bot, p.chat, p.update_id
            ) AS head
            WHERE next_push_at <= \(now.storeMillis) ORDER BY next_push_at, update_id LIMIT \(limit)
            """).map(PostgresInbox.update)
    }

    public func recordPushAttempt(bot: String, updateID: Int64, at: Date, outcome: CallbackOutcome) async throws {
        let atMillis = at.storeMillis
        let (state, nextPushAt, error): (InboxState, Int64?, String?) =
            switch outcome {
            case .delivered: (.done, nil, nil)
            case .retry(let next, let error): (.pending, next.storeMillis, error)
            case .gaveUp(let error): (.failed, nil, error)
            }
        try await rows("""
            UPDATE inbox_update SET push_tries = push_tries + 1, state = \(state.rawValue),
                completed_at = CASE WHEN \(state.rawValue) = 'pending' THEN completed_at ELSE \(atMillis) END,
                next_push_at = coalesce(\(nextPushAt), next_push_at), last_push_error = \(error)
            WHERE bot = \(bot) AND update_id = \(updateID) AND state = 'pending'
            """)
    }

    public func failedPushes(bot: String?, limit: Int) async throws -> [StoredUpdate] {
        try await rows("""
            SELECT \(unescaped: SQLiteMessageStore.updateColumns) FROM inbox_update
            WHERE state = 'failed' AND (\(bot)::text IS NULL OR bot = \(bot))
            ORDER BY completed_at DESC, update_id DESC LIMIT \(limit)
            """).map(PostgresInbox.update)
    }

    public func replayPushes(bot: String, updateIDs: [Int64]?, now: Date) async throws -> [Int64] {
        let nowMillis = now.storeMillis
        // All of the bot's failed pushes when no ids are given.
        let ids = updateIDs ?? []
        return try await rows("""
            UPDATE inbox_update SET state = 'pending', completed_at = NULL, push_tries = 0, next_push_at = \(nowMillis),
                push_owed_since = \(nowMillis), last_push_error = NULL
            WHERE bot = \(bot) AND state = 'failed' AND (\(updateIDs == nil) OR update_id = ANY(\(ids)))
            RETURNING update_id
            """).map { try $0.at(0, as: Int64.self) }.sorted()
    }

    public func pruneInbox(before: Date) async throws -> Int {
        try await rows("DELETE FROM inbox_update WHERE received_at < \(before.storeMillis) RETURNING update_id").count
    }

    public func inboxCounts() async throws -> [InboxCounts] {
        var byBot: [String: InboxCounts] = [:]
        for row in try await rows("SELECT bot, state, count(*) FROM inbox_update GROUP BY bot, state") {
            let bot: String = try row.at(0)
            let n = Int(try row.at(2, as: Int64.self))
            var counts = byBot[bot] ?? InboxCounts(bot: bot)
            counts.stored += n
            switch InboxState(rawValue: try row.at(1)) {
            case .pending: counts.unconfirmed += n
            case .failed: counts.pushFailed += n
            case .done: break
            case nil: throw StoreError(code: .corrupt, detail: "unknown inbox state")
            }
            byBot[bot] = counts
        }
        for row in try await rows("SELECT bot, last_update_id FROM inbox_bot WHERE last_update_id IS NOT NULL") {
            let bot: String = try row.at(0)
            byBot[bot, default: InboxCounts(bot: bot)].lastUpdateID = try row.at(1)
        }
        for row in try await rows("""
            SELECT DISTINCT ON (bot) bot, received_at FROM inbox_update WHERE state = 'pending' ORDER BY bot, update_id
            """) {
            byBot[try row.at(0)]?.oldestUnconfirmed = Date(storeMillis: try row.at(1))
        }
        return byBot.values.sorted { $0.bot < $1.bot }
    }
}

/// Reading inbox rows and settings (column order `SQLiteMessageStore.updateColumns`).
enum PostgresInbox {
    static func settings(_ connection: PostgresConnection, bot: String, logger: Logger) async throws -> InboxSettings {
        guard let row = try await connection.query(
            """
            SELECT last_update_id, webhook_secret, push_url, push_secret_token, push_allowed_updates, push_max_connections,
                consumer_allowed_updates
            FROM inbox_bot WHERE bot = \(bot)
            """, logger: logger
        ).all().first
        else { return InboxSettings() }
        return InboxSettings(
            lastUpdateID: try row.at(0), webhookSecret: try row.at(1), pushURL: try row.at(2),
            pushSecretToken: try row.at(3), pushAllowedUpdates: try row.at(4), pushMaxConnections: try row.at(5),
            consumerAllowedUpdates: try row.at(6))
    }

    static func update(_ row: PostgresRandomAccessRow) throws -> StoredUpdate {
        guard let state = InboxState(rawValue: try row.at(6)) else { throw StoreError(code: .corrupt, detail: "unknown inbox state") }
        return StoredUpdate(
            bot: try row.at(0), updateID: try row.at(1), type: try row.at(2), chat: try row.at(3), json: try row.at(4),
            receivedAt: Date(storeMillis: try row.at(5)), state: state, pushTries: try row.at(7),
            nextPushAt: Date(storeMillis: try row.at(8)), pushOwedSince: Date(storeMillis: try row.at(9)),
            lastPushError: try row.at(10))
    }
}
