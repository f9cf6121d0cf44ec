import Logging
import Foundation
import PostgresNIO

/// Bot leases: one row per bot, taken and renewed by one upsert whose WHERE refuses a lease another node
/// holds. Two nodes racing for a free lease are ordered by the row lock: the second sees the first's row.
extension PostgresMessageStore {
    public func acquireLease(bot: String, node: String, now: Date, duration: TimeInterval) async throws -> BotLease? {
        let nowMillis = now.storeMillis
        let expires = now.addingTimeInterval(duration).storeMillis
        return try await rows("""
            INSERT INTO bot_lease (bot, node, expires_at, epoch) VALUES (\(bot), \(node), \(expires), 1)
            ON CONFLICT (bot) DO UPDATE SET node = excluded.node, expires_at = excluded.expires_at,
                epoch = CASE WHEN bot_lease.node = excluded.node AND bot_lease.expires_at > \(nowMillis)
                        THEN bot_lease.epoch ELSE bot_lease.epoch + 1 END
            WHERE bot_lease.node = excluded.node OR bot_lease.expires_at <= \(nowMillis)
            RETURNING bot, node, expires_at, epoch
            """).first.map(Self.lease)
    }

    public func releaseLease(bot: String, node: String) async throws {
        try await rows("UPDATE bot_lease SET expires_at = 0 WHERE bot = \(bot) AND node = \(node)")
    }

    public func leases() async throws -> [BotLease] {
        try await rows("SELECT bot, node, expires_at, epoch FROM bot_lease ORDER BY bot").map(Self.lease)
    }

    public func recordHeartbeat(node: String, now: Date) async throws {
        try await rows("""
            INSERT INTO relay_node (node, seen_at) VALUES (\(node), \(now.storeMillis))
            ON CONFLICT (node) DO UPDATE SET seen_at = excluded.seen_at
            """)
        try await rows("DELETE FROM relay_node WHERE seen_at < \(now.addingTimeInterval(-LeaseStoreLimits.forgetNodesAfter).storeMillis)")
    }

    public func liveNodes(since: Date) async throws -> [String] {
        try await rows("SELECT node FROM relay_node WHERE seen_at >= \(since.storeMillis) ORDER BY node").map { try $0.at(0) }
    }

    private static func lease(_ row: PostgresRandomAccessRow) throws -> BotLease {
        BotLease(bot: try row.at(0), node: try row.at(1), expiresAt: Date(storeMillis: try row.at(2)), epoch: try row.at(3))
    }
}
