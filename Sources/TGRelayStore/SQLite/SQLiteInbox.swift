import Foundation
import GRDB
import TGRelayCore

/// The inbox of inbound updates (`InboxStore`): deduplicated inserts, consumer confirmation, push state.
extension SQLiteMessageStore {
    static let updateColumns = """
        bot, update_id, type, chat, json, received_at, state, push_tries, next_push_at, push_owed_since, last_push_error
        """

    public func storeUpdates(bot: String, _ updates: [InboundUpdate], now: Date) async throws -> [InboundUpdate] {
        guard !updates.isEmpty else { return [] }
        let nowMillis = now.storeMillis
        return try await write { db in
            let push = try Self.settings(db, bot: bot).push
            let numbering = try Row.fetchOne(
                db.cachedStatement(sql: "SELECT update_id_shift, last_update_id, last_received_at FROM inbox_bot WHERE bot = ?"),
                arguments: [bot]
            ).map { UpdateNumbering(shift: $0[0], highest: $0[1], lastReceivedAt: ($0[2] as Int64?).map(Date.init(storeMillis:))) }
                ?? UpdateNumbering()
            let shift = numbering.shift(forTelegramIDs: updates.map(\.updateID), now: now)
            let insert = try db.cachedStatement(sql: """
                INSERT INTO inbox_update (bot, update_id, type, chat, json, received_at, state, next_push_at, push_owed_since)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (bot, update_id) DO NOTHING RETURNING update_id
                """)
            var stored: [InboundUpdate] = []
            for update in updates.map({ $0.renumbered(by: shift) }) {
                // A push target that does not take this type never receives it, as Telegram never creates it.
                let state: InboxState = push.map { $0.accepts(update.type) } == false ? .done : .pending
                let arguments: StatementArguments = [
                    bot, update.updateID, update.type, update.chat, update.json, nowMillis, state.rawValue, nowMillis, nowMillis,
                ]
                guard try Int64.fetchOne(insert, arguments: arguments) != nil else { continue }
                stored.append(update)
                if update.reactivatesChat, let chat = update.chat {
                    try db.executeCached(sql: "DELETE FROM inactive_chat WHERE bot = ? AND chat = ?", arguments: [bot, chat])
                }
            }
            guard let highest = stored.map(\.updateID).max() else { return stored }
            try db.executeCached(
                sql: """
                    INSERT INTO inbox_bot (bot, last_update_id, update_id_shift, last_received_at) VALUES (?, ?, ?, ?)
                    ON CONFLICT (bot) DO UPDATE SET
                        last_update_id = max(coalesce(last_update_id, excluded.last_update_id), excluded.last_update_id),
                        update_id_shift = excluded.update_id_shift, last_received_at = excluded.last_received_at
                    """,
                arguments: [bot, highest, shift, nowMillis])
            return stored
        }
    }

    public func pendingUpdates(bot: String, from: Int64, types: [String]?, limit: Int) async throws -> [StoredUpdate] {
        try await read { db in
            var sql = """
                SELECT \(Self.updateColumns) FROM inbox_update INDEXED BY inbox_pending
                WHERE bot = ? AND state = 'pending' AND update_id >= ?
                """
            var arguments: StatementArguments = [bot, from]
            if let types {
                sql += " AND type IN (\(types.map { _ in "?" }.joined(separator: ",")))"
                arguments += StatementArguments(types)
            }
            return try Row.fetchAll(db, sql: sql + " ORDER BY update_id LIMIT ?", arguments: arguments + [limit])
                .map(Self.decodeUpdate)
        }
    }

    public func confirmUpdates(bot: String, below offset: Int64, now: Date) async throws -> Int {
        let nowMillis = now.storeMillis
        return try await write { db in
            try db.executeCached(
                sql: "UPDATE inbox_update SET state = 'done', completed_at = ? WHERE bot = ? AND state = 'pending' AND update_id < ?",
                arguments: [nowMillis, bot, offset])
            return db.changesCount
        }
    }

    public func storedUpdate(bot: String, updateID: Int64) async throws -> StoredUpdate? {
        try await read { db in
            try Row.fetchOne(
                db, sql: "SELECT \(Self.updateColumns) FROM inbox_update WHERE bot = ? AND update_id = ?", arguments: [bot, updateID]
            ).map(Self.decodeUpdate)
        }
    }

    public func inboxSettings(bot: String) async throws -> InboxSettings {
        try await read { db in try Self.settings(db, bot: bot) }
    }

    public func setInboundMode(bot: String, _ mode: InboundMode) async throws {
        let secret: String? =
            switch mode {
            case .polling: nil
            case .webhook(let secret): secret
            }
        try await write { db in
            try db.execute(
                sql: """
                    INSERT INTO inbox_bot (bot, webhook_secret) VALUES (?, ?)
                    ON CONFLICT (bot) DO UPDATE SET webhook_secret = excluded.webhook_secret
                    """,
                arguments: [bot, secret])
        }
    }

    public func setPushTarget(bot: String, _ target: PushTarget?, dropPending: Bool, now: Date) async throws {
        let nowMillis = now.storeMillis
        try await write { db in
            if dropPending {
                try db.execute(
                    sql: "UPDATE inbox_update SET state = 'done', completed_at = ? WHERE bot = ? AND state = 'pending'",
                    arguments: [nowMillis, bot])
            }
            try db.execute(
                sql: """
                    INSERT INTO inbox_bot (bot, push_url, push_secret_token, push_allowed_updates, push_max_connections)
                    VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT (bot) DO UPDATE SET push_url = excluded.push_url, push_secret_token = excluded.push_secret_token,
                        push_allowed_updates = excluded.push_allowed_updates, push_max_connections = excluded.push_max_connections
                    """,
                arguments: [bot, target?.url, target?.secretToken, InboxSettings.column(target?.allowedUpdates), target?.maxConnections])
            guard let target else { return }
            // What is pending now is owed to the new URL from now on, with a fresh retry budget.
            try db.execute(
                sql: """
                    UPDATE inbox_update SET next_push_at = ?, push_owed_since = ?, push_tries = 0, last_push_error = NULL
                    WHERE bot = ? AND state = 'pending'
                    """,
                arguments: [nowMillis, nowMillis, bot])
            if let allowed = target.allowedUpdates, !allowed.isEmpty {
                try db.execute(
                    sql: """
                        UPDATE inbox_update SET state = 'done', completed_at = ?
                        WHERE bot = ? AND state = 'pending' AND type NOT IN (\(allowed.map { _ in "?" }.joined(separator: ",")))
                        """,
                    arguments: [nowMillis, bot] + StatementArguments(allowed))
            }
        }
    }

    public func setConsumerAllowedUpdates(bot: String, _ types: [String]?) async throws {
        try await write { db in
            try db.execute(
                sql: """
                    INSERT INTO inbox_bot (bot, consumer_allowed_updates) VALUES (?, ?)
                    ON CONFLICT (bot) DO UPDATE SET consumer_allowed_updates = excluded.consumer_allowed_updates
                    """,
                arguments: [bot, InboxSettings.column(types)])
        }
    }

    public func duePushes(now: Date, limit: Int, excludingBots: Set<String>) async throws -> [StoredUpdate] {
        let nowMillis = now.storeMillis
        let excluded = Self.jsonArray(excludingBots)
        return try await read { db in
            // The head of each chat's pending updates: a chat's next update waits until its head is settled.
            let statement = try db.cachedStatement(sql: """
                SELECT \(Self.updateColumns.split(separator: ",").map { "u." + $0.trimmingCharacters(in: .whitespaces) }.joined(separator: ", "))
                FROM (
                    SELECT p.bot, min(p.update_id) AS head FROM inbox_update p INDEXED BY inbox_pending_chat
                    JOIN inbox_bot b ON b.bot = p.bot AND b.push_url IS NOT NULL
                    WHERE p.state = 'pending' AND p.bot NOT IN (SELECT value FROM json_each(?)) GROUP BY p.bot, p.chat
                ) h
                JOIN inbox_update u ON u.bot = h.bot AND u.update_id = h.head
                WHERE u.next_push_at <= ? ORDER BY u.next_push_at, u.update_id LIMIT ?
                """)
            return try Row.fetchAll(statement, arguments: [excluded, nowMillis, limit]).map(Self.decodeUpdate)
        }
    }

    public func recordPushAttempt(bot: String, updateID: Int64, at: Date, outcome: CallbackOutcome) async throws {
        let atMillis = at.storeMillis
        try await write { db in
            let (sql, arguments): (String, StatementArguments) =
                switch outcome {
                case .delivered: ("state = 'done', completed_at = ?, last_push_error = NULL", [atMillis])
                case .retry(let next, let error): ("next_push_at = ?, last_push_error = ?", [next.storeMillis, error])
                case .gaveUp(let error): ("state = 'failed', completed_at = ?, last_push_error = ?", [atMillis, error])
                }
            try db.executeCached(
                sql: "UPDATE inbox_update SET push_tries = push_tries + 1, \(sql) WHERE bot = ? AND update_id = ? AND state = 'pending'",
                arguments: arguments + [bot, updateID])
        }
    }

    public func failedPushes(bot: String?, limit: Int) async throws -> [StoredUpdate] {
        try await read { db in
            let filter = bot == nil ? "" : "AND bot = ?"
            return try Row.fetchAll(
                db,
                sql: """
                    SELECT \(Self.updateColumns) FROM inbox_update WHERE state = 'failed' \(filter)
                    ORDER BY completed_at DESC, update_id DESC LIMIT ?
                    """,
                arguments: StatementArguments(bot.map { [$0] } ?? []) + [limit]
            ).map(Self.decodeUpdate)
        }
    }

    public func replayPushes(bot: String, updateIDs: [Int64]?, now: Date) async throws -> [Int64] {
        let nowMillis = now.storeMillis
        return try await write { db in
            var sql = """
                UPDATE inbox_update SET state = 'pending', completed_at = NULL, push_tries = 0, next_push_at = ?,
                    push_owed_since = ?, last_push_error = NULL
                WHERE bot = ? AND state = 'failed'
                """
            var arguments: StatementArguments = [nowMillis, nowMillis, bot]
            if let updateIDs {
                sql += " AND update_id IN (\(updateIDs.map { _ in "?" }.joined(separator: ",")))"
                arguments += StatementArguments(updateIDs)
            }
            return try Int64.fetchAll(db, sql: sql + " RETURNING update_id", arguments: arguments).sorted()
        }
    }

    public func pruneInbox(before: Date) async throws -> Int {
        let beforeMillis = before.storeMillis
        return try await write { db in
            try db.execute(sql: "DELETE FROM inbox_update WHERE received_at < ?", arguments: [beforeMillis])
            return db.changesCount
        }
    }

    public func inboxCounts() async throws -> [InboxCounts] {
        try await read { db in
            var byBot: [String: InboxCounts] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT bot, state, n FROM inbox_count") {
                let bot: String = row[0]
                let n: Int = row[2]
                var counts = byBot[bot] ?? InboxCounts(bot: bot)
                counts.stored += n
                switch InboxState(rawValue: row[1]) {
                case .pending: counts.unconfirmed += n
                case .failed: counts.pushFailed += n
                case .done: break
                case nil: throw StoreError(code: .corrupt, detail: "unknown inbox state")
                }
                byBot[bot] = counts
            }
            for row in try Row.fetchAll(db, sql: "SELECT bot, last_update_id FROM inbox_bot WHERE last_update_id IS NOT NULL") {
                let bot: String = row[0]
                byBot[bot, default: InboxCounts(bot: bot)].lastUpdateID = row[1]
            }
            let oldest = try db.cachedStatement(sql: """
                SELECT received_at FROM inbox_update INDEXED BY inbox_pending WHERE bot = ? AND state = 'pending'
                ORDER BY update_id LIMIT 1
                """)
            for (bot, var counts) in byBot where counts.unconfirmed > 0 {
                counts.oldestUnconfirmed = try Int64.fetchOne(oldest, arguments: [bot]).map { Date(storeMillis: $0) }
                byBot[bot] = counts
            }
            return byBot.values.sorted { $0.bot < $1.bot }
        }
    }

    private static func settings(_ db: Database, bot: String) throws -> InboxSettings {
        guard
            let row = try Row.fetchOne(
                db.cachedStatement(sql: """
                    SELECT last_update_id, webhook_secret, push_url, push_secret_token, push_allowed_updates,
                        push_max_connections, consumer_allowed_updates
                    FROM inbox_bot WHERE bot = ?
                    """),
                arguments: [bot])
        else { return InboxSettings() }
        return InboxSettings(
            lastUpdateID: row[0], webhookSecret: row[1], pushURL: row[2], pushSecretToken: row[3], pushAllowedUpdates: row[4],
            pushMaxConnections: row[5], consumerAllowedUpdates: row[6])
    }

    static func decodeUpdate(_ row: Row) throws -> StoredUpdate {
        guard let state = InboxState(rawValue: row[6]) else { throw StoreError(code: .corrupt, detail: "unknown inbox state") }
        return StoredUpdate(
            bot: row[0], updateID: row[1], type: row[2], chat: row[3], json: row[4], receivedAt: Date(storeMillis: row[5]),
            state: state, pushTries: row[7], nextPushAt: Date(storeMillis: row[8]), pushOwedSince: Date(storeMillis: row[9]),
            lastPushError: row[10])
    }
}
