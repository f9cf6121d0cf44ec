import Foundation

/// A change of an alert that a node announces (log line and webhook POST).
public enum AlertAnnouncement: Sendable, Equatable {
    case raised(Alert)
    case resolved(Alert, at: Date)
    /// The bot moved to another node while the alert held: this node closes the occurrence it announced,
    /// and the new holder announces its own if the alert still holds there.
    case handedOver(Alert, at: Date)
}

/// Which alert changes a node announces. Every node evaluates every bot, but only the node holding a bot
/// raises its alerts, and every raise it announced gets a resolution from it: when the alert ends, or when
/// the bot moves away (a lease taken over or handed off), so that no announced occurrence stays open. A node
/// taking a bot over raises the alerts holding then, including those the previous holder raised.
public struct AlertAnnouncer: Sendable {
    /// The raises this node announced and has not yet resolved.
    public private(set) var announced: [AlertKey: Alert] = [:]

    public init() {}

    /// The announcements due, given the alerts holding now and the bots this node holds.
    public mutating func changes(active: [AlertKey: Alert], holds: (String) -> Bool, now: Date) -> [AlertAnnouncement] {
        var changes: [AlertAnnouncement] = []
        for (key, alert) in announced.sorted(by: { $0.key < $1.key }) {
            if active[key]?.since != alert.since {
                changes.append(.resolved(alert, at: now))
            } else if !holds(key.bot) {
                changes.append(.handedOver(alert, at: now))
            } else {
                continue
            }
            announced[key] = nil
        }
        for (key, alert) in active.sorted(by: { $0.key < $1.key }) where announced[key] == nil && holds(key.bot) {
            announced[key] = alert
            changes.append(.raised(alert))
        }
        return changes
    }
}
