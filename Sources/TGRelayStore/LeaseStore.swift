import Foundation

/// A node's exclusive right to dispatch for one bot until `expiresAt`.
public struct BotLease: Sendable, Equatable {
    public var bot: String
    public var node: String
    public var expiresAt: Date
    /// Grows each time the lease is taken after it lapsed (by another node, or by the same one after a
    /// gap), so a holder can tell a renewal from a takeover.
    public var epoch: Int64

    public init(bot: String, node: String, expiresAt: Date, epoch: Int64) {
        self.bot = bot
        self.node = node
        self.expiresAt = expiresAt
        self.epoch = epoch
    }
}

/// Per-bot leases, so that with several nodes on one database exactly one dispatches for a bot and enforces
/// its rate limits. Times come from the nodes' clocks, which are expected to be synchronized (NTP); holders
/// stop sending a safety margin before the expiry they wrote.
public protocol LeaseStore: Sendable {
    /// Takes the bot's lease for `node` until `now + duration`, or renews it when `node` holds it. Returns
    /// nil, changing nothing, while another node holds a lease that has not expired at `now`.
    func acquireLease(bot: String, node: String, now: Date, duration: TimeInterval) async throws -> BotLease?
    /// Gives the lease up at once (graceful shutdown) when `node` holds it; the epoch is kept.
    func releaseLease(bot: String, node: String) async throws
    /// Every lease ever taken (expired ones too), ordered by bot.
    func leases() async throws -> [BotLease]
    /// What a node taking a bot over (after a crash, a restart or another node's death) does with the
    /// messages the previous holder left `sending`, whose outcome is unknown: they become `waiting` and are
    /// flagged ambiguous (or `failed` with reason `outcome_unknown` when accepted with at_most_once).
    /// Returns how many.
    func recoverInterruptedSends(bot: String, now: Date) async throws -> Int
    /// Notes that `node` is alive at `now` (once per lease round), so nodes can share the bots out evenly,
    /// and forgets nodes not heard from for `LeaseStoreLimits.forgetNodesAfter`.
    func recordHeartbeat(node: String, now: Date) async throws
    /// The nodes whose last heartbeat is at or after `since`, ordered by name.
    func liveNodes(since: Date) async throws -> [String]
}

public enum LeaseStoreLimits {
    /// Seconds after its last heartbeat that a node's row is deleted: a day, far beyond any lease.
    public static let forgetNodesAfter: TimeInterval = 86_400
}
