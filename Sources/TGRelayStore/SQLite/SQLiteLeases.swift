import Foundation
import GRDB

/// Bot leases in SQLite: one process owns the file, but the semantics are the same as on PostgreSQL, so a
/// relay behaves alike on both and the conformance suite covers both.
extension SQLiteMessageStore {
    public func acquireLease(bot: String, node: String, now: Date, duration: TimeInterval) async throws -> BotLease? {
        let nowMillis = now.storeMillis
        let expires = now.addingTimeInterval(duration).storeMillis
        return try await write { db in
            try Row.fetchOne(
                db.cachedStatement(sql: """
                    INSERT INTO bot_lease (bot, node, expires_at, epoch) VALUES (?, ?, ?, 1)
                    ON CONFLICT (bot) DO UPDATE SET node = excluded.node, expires_at = excluded.expires_at,
                        epoch = CASE WHEN bot_lease.node = excluded.node AND bot_lease.expires_at > ?
                                THEN bot_lease.epoch ELSE bot_lease.epoch + 1 END
                    WHERE bot_lease.node = excluded.node OR bot_lease.expires_at <= ?
                    RETURNING bot, node, expires_at, epoch
                    """),
                arguments: [bot, node, expires, nowMillis, nowMillis]
            ).map(Self.lease)
        }
    }

    public func releaseLease(bot: String, node: String) async throws {
        try await write { db in
            try db.executeCached(sql: "UPDATE bot_lease SET expires_at = 0 WHERE bot = ? AND node = ?", arguments: [bot, node])
        }
    }

    public func leases() async throws -> [BotLease] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT bot, node, expires_at, epoch FROM bot_lease ORDER BY bot").map(Self.lease)
        }
    }

    public func recordHeartbeat(node: String, now: Date) async throws {
        try await write { db in
            try db.executeCached(
                sql: "INSERT INTO relay_node (node, seen_at) VALUES (?, ?) ON CONFLICT (node) DO UPDATE SET seen_at = excluded.seen_at",
                arguments: [node, now.storeMillis])
            try db.executeCached(
                sql: "DELETE FROM relay_node WHERE seen_at < ?",
                arguments: [now.addingTimeInterval(-LeaseStoreLimits.forgetNodesAfter).storeMillis])
        }
    }

    public func liveNodes(since: Date) async throws -> [String] {
        try await read { db in
            try String.fetchAll(db, sql: "SELECT node FROM relay_node WHERE seen_at >= ? ORDER BY node", arguments: [since.storeMillis])
        }
    }

    private static func lease(_ row: Row) -> BotLease {
        BotLease(bot: row[0], node: row[1], expiresAt: Date(storeMillis: row[2]), epoch: row[3])
    }
}
