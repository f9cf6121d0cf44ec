import Foundation

/// Which bots this node dispatches and polls for, decided from the store's lease answers and a clock the
/// caller supplies (no I/O), so that several nodes on one database share the bots and one at a time works
/// for each.
///
/// Each round the caller asks for a `plan` — renew every lease held, try free bots while holding fewer than
/// a fair share of the bots among the live nodes, hand one bot off when holding more — carries it out
/// against the store and reports each answer back; answers turn into `Action`s. A lease is trusted only
/// until `margin` before the expiry written for it, counted from when the request started, so a node
/// whose renewals fail or hang (database gone, network split) has stopped before another may take over.
public struct LeaseKeeping: Sendable {
    public struct Settings: Sendable, Equatable {
        /// How long a lease lasts unless renewed: how long a dead node's bots wait for another node.
        public var duration: TimeInterval

        public init(duration: TimeInterval) {
            self.duration = duration
        }

        /// Four renewals fit in a lease, so a few slow or failed rounds do not lose it.
        public var renewInterval: TimeInterval { duration / 4 }
        /// Allowance for clock differences between nodes and for the time a stop takes.
        public var margin: TimeInterval { min(1, duration / 5) }
    }

    public enum Action: Sendable, Equatable {
        /// The lease was taken: start working for the bot (after treating what a previous holder left
        /// `sending` as ambiguous, and seeding the rate limiter from the ledger).
        case start(String)
        /// The lease is lost or about to lapse: stop sending for the bot at once.
        case stop(String)
    }

    public struct Plan: Sendable, Equatable {
        /// Leases held, to renew.
        public var renew: [String] = []
        /// Free bots to try to take.
        public var acquire: [String] = []
        /// A bot to give up (finish its sends, then release the lease) so that another node can take it.
        public var handOff: String?
    }

    public let settings: Settings
    public let node: String
    private var held: [String: (trustedUntil: Date, epoch: Int64)] = [:]

    public init(node: String, settings: Settings) {
        self.node = node
        self.settings = settings
    }

    public var heldBots: [String] { held.keys.sorted() }
    public func holds(_ bot: String) -> Bool { held[bot] != nil }
    /// The earliest time a held lease stops being trusted; the caller checks `expire` then at the latest.
    public var nextExpiry: Date? { held.values.map(\.trustedUntil).min() }

    /// What to ask the store this round. `leases` is the store's table (bot → holder and expiry).
    public func plan(bots: [String], leases: [String: (node: String, expiresAt: Date)], liveNodes: Int, now: Date) -> Plan {
        let fairShare = Self.fairShare(bots: bots.count, nodes: liveNodes)
        var plan = Plan()
        let mine = heldBots
        // Several nodes live and this one above its share: one bot per round goes, the last in name order.
        if mine.count > fairShare, liveNodes > 1 { plan.handOff = mine.last }
        plan.renew = mine.filter { $0 != plan.handOff }
        let room = fairShare - mine.count
        guard room > 0 else { return plan }
        let free = bots.filter { bot in
            guard held[bot] == nil else { return false }
            guard let lease = leases[bot] else { return true }
            // A row of this node's own is free to it (a restart under the same node name).
            return lease.node == node || lease.expiresAt <= now
        }
        // Nodes start their search at different bots, so that several racing for free bots mostly do not collide.
        let start = free.isEmpty ? 0 : Self.spread(node) % free.count
        plan.acquire = Array((free[start...] + free[..<start]).prefix(room))
        return plan
    }

    /// The store granted (or renewed) the lease: requested at `requestedAt` for `settings.duration`.
    public mutating func acquired(_ bot: String, epoch: Int64, requestedAt: Date, expiresAt: Date) -> [Action] {
        let trustedUntil = min(expiresAt, requestedAt.addingTimeInterval(settings.duration)).addingTimeInterval(-settings.margin)
        let previous = held.updateValue((trustedUntil, epoch), forKey: bot)
        switch previous {
        case nil: return [.start(bot)]
        // The lease lapsed between two renewals and was taken again (by this node or another in between):
        // whatever the earlier tenure left must be recovered as after a takeover.
        case let previous? where previous.epoch != epoch: return [.stop(bot), .start(bot)]
        case _?: return []
        }
    }

    /// The store refused: another node holds the lease.
    public mutating func refused(_ bot: String) -> [Action] {
        held.removeValue(forKey: bot) == nil ? [] : [.stop(bot)]
    }

    /// The lease is given up (handed off, released at shutdown, or its start failed): no action, the
    /// caller has stopped the work itself.
    public mutating func released(_ bot: String) {
        held[bot] = nil
    }

    /// Leases no longer trusted at `now` (renewals failed or hung): stop them.
    public mutating func expire(now: Date) -> [Action] {
        let lapsed = held.filter { $0.value.trustedUntil <= now }.keys.sorted()
        for bot in lapsed { held[bot] = nil }
        return lapsed.map(Action.stop)
    }

    /// Bots per node when shared out evenly, rounded up so that every bot has a place.
    public static func fairShare(bots: Int, nodes: Int) -> Int {
        let nodes = max(1, nodes)
        return (bots + nodes - 1) / nodes
    }

    /// A stable number for a node name (not `hashValue`, which changes between processes).
    static func spread(_ node: String) -> Int {
        node.utf8.reduce(0) { ($0 &* 31 &+ Int($1)) & 0xFFFF }
    }
}
