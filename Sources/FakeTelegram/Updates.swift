import Foundation

/// A webhook set with `setWebhook`.
struct WebhookConfig: Sendable {
    var url: String
    var secretToken: String?
    var maxConnections: Int
    var allowedUpdates: [String]?
    var lastErrorDate: Int64?
    var lastErrorMessage: String?
}

/// Per-bot update queue with Telegram's semantics: ids increase by one, updates stay until a
/// getUpdates offset confirms them (or retention drops them), `allowed_updates` filters updates
/// created after it was set.
struct BotUpdates {
    struct Item: Sendable {
        var id: Int64
        var createdAt: Double
        var update: FakeJSON
    }

    /// Update types Telegram leaves out unless asked for explicitly.
    static let optInTypes: Set<String> = ["chat_member", "message_reaction", "message_reaction_count"]

    var queue: [Item] = []
    var nextID: Int64
    var allowedUpdates: [String]? = nil
    var webhook: WebhookConfig? = nil
    /// Bumped on every setWebhook/deleteWebhook so that an outdated push worker stops.
    var webhookGeneration = 0
    /// The getUpdates request that currently owns the bot; an older one gets 409.
    var activePoll: Int? = nil
    /// Suspended long polls and webhook workers, woken by new updates.
    var waiters: [Int: CheckedContinuation<Void, Never>] = [:]

    func accepts(_ type: String) -> Bool {
        let allowed = webhook != nil ? webhook?.allowedUpdates : allowedUpdates
        guard let allowed, !allowed.isEmpty else { return !Self.optInTypes.contains(type) }
        return allowed.contains(type)
    }

    mutating func wakeAll() {
        for (_, waiter) in waiters { waiter.resume() }
        waiters.removeAll()
    }

    mutating func prune(now: Double, retention: Double) {
        queue.removeAll { now - $0.createdAt > retention }
    }

    /// getUpdates `offset`: positive confirms everything below it, negative keeps the last -offset.
    mutating func confirm(offset: Int64) {
        if offset > 0 {
            queue.removeAll { $0.id < offset }
        } else if offset < 0 {
            let keep = Int(min(Int64(queue.count), -offset))
            queue.removeFirst(queue.count - keep)
        }
    }
}

/// Which key of an Update object says what it is ("message", "callback_query", …).
func updateType(_ update: FakeJSON) -> String {
    update.objectValue?.keys.filter { $0 != "update_id" }.sorted().first ?? "unknown"
}

extension FakeJSON {
    /// An update's chat, for per-chat ordering and convenience filters.
    var updateChatID: Int64? {
        guard case .object(let o) = self else { return nil }
        for value in o.values {
            if let id = value["chat"]?["id"]?.intValue { return id }
            if let id = value["message"]?["chat"]?["id"]?.intValue { return id }
        }
        return nil
    }
}
