import Foundation
import Hummingbird
import TGRelayStore

/// `GET /v1/status`: per bot, what is queued, how old it is, what happened, and how the dispatcher sees it;
/// and the alerts holding now.
struct StatusRoutes {
    let store: any MessageStore
    let dispatcher: Dispatcher
    let alerts: AlertMonitor

    func register(on router: RouterGroup<RelayRequestContext>) {
        router.get("status") { _, _ in
            let counts = try await storeCall { try await store.counts() }
            let inactive = try await storeCall { try await store.inactiveChats(bot: nil) }
            let live = await dispatcher.snapshot()
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
                return bot
            }
            let active = await alerts.activeAlerts.map(AlertMonitor.json)
            return JSONBody.response(["bots": bots, "alerts": active, "time": MessageView.timestamp(now)])
        }
    }
}
