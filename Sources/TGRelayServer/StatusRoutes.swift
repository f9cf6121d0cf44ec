import TGRelayCore
import Foundation
import Hummingbird
import TGRelayStore

/// `GET /v1/status`: per bot, what is queued, how old it is, what happened, how the dispatcher sees it (on
/// the node that holds the bot's lease), which node that is, and the inbox of inbound updates; and the
/// alerts holding now.
struct StatusRoutes {
    let store: any MessageStore
    let dispatcher: Dispatcher
    let alerts: AlertMonitor
    let polling: PollStatusBoard

    func register(on router: RouterGroup<RelayRequestContext>) {
        router.get("status") { _, _ in
            let counts = try await storeCall { try await store.counts() }
            let inactive = try await storeCall { try await store.inactiveChats(bot: nil) }
            let live = await dispatcher.snapshot()
            let inboxCounts = try await storeCall { try await store.inboxCounts() }
            let inbox = Dictionary(inboxCounts.map { ($0.bot, $0) }) { first, _ in first }
            let pollers = polling.snapshot()
            let leases = Dictionary(try await storeCall { try await store.leases() }.map { ($0.bot, $0) }) { first, _ in first }
            let now = Date()
            // Every configured bot is shown, also one that has not stored a message yet (the dispatcher knows
            // them all); a bot only the store knows (removed from the configuration) still shows its backlog.
            let byBot = Dictionary(counts.map { ($0.bot, $0) }) { first, _ in first }
            let names = Set(byBot.keys).union(live.keys).sorted()
            let bots: [[String: Any]] = names.map { name in
                let count = byBot[name] ?? BotCounts(bot: name)
                var bot: [String: Any] = [
                    "bot": count.bot, "queue_depth": count.pending, "delivered": count.delivered,
                    "dead_letters": count.failed, "expired": count.expired, "cancelled": count.cancelled,
                    "inactive_chats": inactive.filter { $0.bot == count.bot }.count,
                ]
                if let oldest = count.oldestPending {
                    bot["oldest_waiting_seconds"] = max(0, now.timeIntervalSince(oldest))
                }
                if let state = live[count.bot] { bot.merge(state.json) { $1 } }
                // Which node sends for the bot (several nodes on one database): the lease holder, while it lasts.
                if let lease = leases[name], lease.expiresAt > now {
                    bot["lease"] = ["node": lease.node, "expires_at": UTCTimestamp.string(lease.expiresAt), "held_here": dispatcher.ownership.owns(name)]
                }
                if inbox[name] != nil || pollers[name] != nil {
                    bot["inbox"] = Self.inbox(inbox[name] ?? InboxCounts(bot: name), poller: pollers[name], now: now)
                }
                return bot
            }
            let active = await alerts.activeAlerts.map(AlertMonitor.json)
            return JSONBody.response(["bots": bots, "alerts": active, "time": UTCTimestamp.string(now)])
        }
    }

    /// Inbox depth, consumer lag and the oldest unconfirmed update, and how the poller fares.
    static func inbox(_ counts: InboxCounts, poller: PollStatusBoard.Entry?, now: Date) -> [String: Any] {
        var json: [String: Any] = ["stored": counts.stored, "unconfirmed": counts.unconfirmed, "push_failed": counts.pushFailed]
        if let oldest = counts.oldestUnconfirmed { json["oldest_unconfirmed_seconds"] = max(0, now.timeIntervalSince(oldest)) }
        if let last = counts.lastUpdateID { json["last_update_id"] = last }
        if let poller {
            json["mode"] = poller.mode
            if let success = poller.lastSuccess { json["last_poll_at"] = UTCTimestamp.string(success) }
            if let error = poller.lastError { json["last_error"] = error }
            if let since = poller.conflictSince { json["polling_conflict_since"] = UTCTimestamp.string(since) }
        }
        return json
    }
}
