import Foundation
import TGRelayCore

/// Where a stored inbound update stands for its consumer.
public enum InboxState: String, Sendable, Equatable, CaseIterable {
    /// Not yet confirmed by a getUpdates offset, or not yet pushed.
    case pending
    /// Confirmed by the consumer's offset, or acknowledged (2xx) by the push URL.
    case done
    /// Push given up after its horizon: a dead letter, replayable.
    case failed
}

/// An update in the inbox.
public struct StoredUpdate: Sendable, Equatable {
    public var bot: String
    public var updateID: Int64
    public var type: String
    public var chat: String?
    /// The update as consumers receive it (canonical JSON).
    public var json: String
    public var receivedAt: Date
    public var state: InboxState
    /// Push POSTs made so far.
    public var pushTries: Int
    /// When a push is next due (meaningful while pending and a push URL is set).
    public var nextPushAt: Date
    /// When the push became owed: stored with a push URL set, the URL set later, or replayed.
    public var pushOwedSince: Date
    public var lastPushError: String?

    public init(
        bot: String, updateID: Int64, type: String, chat: String?, json: String, receivedAt: Date, state: InboxState,
        pushTries: Int, nextPushAt: Date, pushOwedSince: Date, lastPushError: String?
    ) {
        self.bot = bot
        self.updateID = updateID
        self.type = type
        self.chat = chat
        self.json = json
        self.receivedAt = receivedAt
        self.state = state
        self.pushTries = pushTries
        self.nextPushAt = nextPushAt
        self.pushOwedSince = pushOwedSince
        self.lastPushError = lastPushError
    }
}

/// How a bot receives updates from Telegram.
public enum InboundMode: Sendable, Equatable {
    /// The relay long-polls getUpdates.
    case polling
    /// Telegram POSTs to the relay's webhook, proving itself with this secret token.
    case webhook(secret: String)
}

/// Where the app gets its updates from, besides getUpdates: a push URL set by `setWebhook` on the proxy.
public struct PushTarget: Sendable, Equatable {
    public var url: String
    /// Sent back as `X-Telegram-Bot-Api-Secret-Token`, as Telegram would.
    public var secretToken: String?
    /// The update types to push; nil for all.
    public var allowedUpdates: [String]?
    /// setWebhook's `max_connections` (1–100, Telegram's default 40): most pushes in flight at once.
    public var maxConnections: Int

    public init(url: String, secretToken: String? = nil, allowedUpdates: [String]? = nil, maxConnections: Int = 40) {
        self.url = url
        self.secretToken = secretToken
        self.allowedUpdates = allowedUpdates
        self.maxConnections = maxConnections
    }
}

/// A bot's inbound settings: mode, push target and the highest update id ever stored.
public struct InboxSettings: Sendable, Equatable {
    public var mode: InboundMode
    public var push: PushTarget?
    /// The highest update id stored, in the relay's numbering (`UpdateNumbering`).
    public var lastUpdateID: Int64?
    /// The update types the app last asked for with getUpdates' `allowed_updates` (sticky, as at Telegram,
    /// also across restarts); nil: never given, or an empty list (Telegram's default).
    public var consumerAllowedUpdates: [String]?

    public init(mode: InboundMode = .polling, push: PushTarget? = nil, lastUpdateID: Int64? = nil, consumerAllowedUpdates: [String]? = nil) {
        self.mode = mode
        self.push = push
        self.lastUpdateID = lastUpdateID
        self.consumerAllowedUpdates = consumerAllowedUpdates
    }
}

/// Per-bot inbox figures for `/v1/status` and metrics.
public struct InboxCounts: Sendable, Equatable {
    public var bot: String
    /// Updates kept (every state), until retention removes them.
    public var stored: Int
    /// Updates the consumer has not confirmed (or the push URL not acknowledged): the consumer's lag.
    public var unconfirmed: Int
    public var oldestUnconfirmed: Date?
    /// Pushes given up (dead letters).
    public var pushFailed: Int
    public var lastUpdateID: Int64?

    public init(bot: String, stored: Int = 0, unconfirmed: Int = 0, oldestUnconfirmed: Date? = nil, pushFailed: Int = 0, lastUpdateID: Int64? = nil) {
        self.bot = bot
        self.stored = stored
        self.unconfirmed = unconfirmed
        self.oldestUnconfirmed = oldestUnconfirmed
        self.pushFailed = pushFailed
        self.lastUpdateID = lastUpdateID
    }
}

/// The durable inbox of inbound updates (DESIGN.md "Inbound semantics").
///
/// Updates are deduplicated by (bot, update_id) for as long as they are kept, so Telegram re-sending one
/// (a webhook retry, a poll answered twice around a crash) stores it once. Every mutating call returns
/// after its transaction is durable, so whatever the caller confirms to Telegram afterwards is safe.
public protocol InboxStore: Sendable {
    /// Stores the updates that are new, in one transaction, and returns them as stored: numbered by
    /// `UpdateNumbering`, so after Telegram restarts its ids the stored ones keep growing. A new update owes
    /// a push when the bot has a push target that accepts its type; one with `reactivatesChat` clears the
    /// chat's inactivity in the same transaction. `lastUpdateID` only grows.
    func storeUpdates(bot: String, _ updates: [InboundUpdate], now: Date) async throws -> [InboundUpdate]
    /// Pending updates with `update_id >= from`, in update_id order, of the given types (nil: all).
    func pendingUpdates(bot: String, from: Int64, types: [String]?, limit: Int) async throws -> [StoredUpdate]
    /// Marks every pending update below `offset` done (getUpdates' offset); returns how many.
    @discardableResult
    func confirmUpdates(bot: String, below offset: Int64, now: Date) async throws -> Int
    /// Any stored update, for inspection.
    func storedUpdate(bot: String, updateID: Int64) async throws -> StoredUpdate?

    func inboxSettings(bot: String) async throws -> InboxSettings
    func setInboundMode(bot: String, _ mode: InboundMode) async throws
    /// Sets (or with nil removes) the push target. Setting it makes every pending update of an accepted type
    /// owed from `now`; with `dropPending` pending updates become done first (Telegram's drop_pending_updates).
    func setPushTarget(bot: String, _ target: PushTarget?, dropPending: Bool, now: Date) async throws
    /// Keeps the app's getUpdates `allowed_updates` (nil or empty: Telegram's default).
    func setConsumerAllowedUpdates(bot: String, _ types: [String]?) async throws

    /// Pushes due at `now`: for each (bot, chat) with a push target, its oldest pending update if due, so
    /// that a chat's updates go out one after the other. Oldest due first. Bots in `excludingBots` (served
    /// by another node) are left out in the store, so that their backlog cannot hide this node's.
    func duePushes(now: Date, limit: Int, excludingBots: Set<String>) async throws -> [StoredUpdate]
    /// Records one POST of a pending update: delivered (done), retry later, or given up (failed).
    func recordPushAttempt(bot: String, updateID: Int64, at: Date, outcome: CallbackOutcome) async throws
    /// Pushes given up, newest first.
    func failedPushes(bot: String?, limit: Int) async throws -> [StoredUpdate]
    /// Makes failed pushes pending again, due now (all of the bot's when `updateIDs` is nil); returns the ids.
    func replayPushes(bot: String, updateIDs: [Int64]?, now: Date) async throws -> [Int64]

    /// Deletes updates received before `before` (retention), whatever their state; returns how many.
    func pruneInbox(before: Date) async throws -> Int
    func inboxCounts() async throws -> [InboxCounts]
}

extension PushTarget {
    /// Whether updates of `type` are pushed to this target (no list, or an empty one, takes every type).
    func accepts(_ type: String) -> Bool {
        guard let allowed = allowedUpdates, !allowed.isEmpty else { return true }
        return allowed.contains(type)
    }
}

extension InboxSettings {
    /// The settings as the drivers store them: a webhook secret means webhook mode, allowed updates are
    /// comma-separated.
    init(
        lastUpdateID: Int64?, webhookSecret: String?, pushURL: String?, pushSecretToken: String?, pushAllowedUpdates: String?,
        pushMaxConnections: Int?, consumerAllowedUpdates: String?
    ) {
        self.init(
            mode: webhookSecret.map { .webhook(secret: $0) } ?? .polling,
            push: pushURL.map {
                PushTarget(
                    url: $0, secretToken: pushSecretToken, allowedUpdates: Self.types(pushAllowedUpdates),
                    maxConnections: pushMaxConnections ?? 40)
            },
            lastUpdateID: lastUpdateID, consumerAllowedUpdates: Self.types(consumerAllowedUpdates))
    }

    /// Update types as both drivers keep them: comma-separated, NULL for none.
    static func types(_ column: String?) -> [String]? {
        column.map { $0.split(separator: ",").map(String.init) }
    }

    static func column(_ types: [String]?) -> String? {
        types.flatMap { $0.isEmpty ? nil : $0.joined(separator: ",") }
    }
}

extension InboxStore {
    /// Every bot's pushes due at `now` (one node).
    public func duePushes(now: Date, limit: Int) async throws -> [StoredUpdate] {
        try await duePushes(now: now, limit: limit, excludingBots: [])
    }
}
