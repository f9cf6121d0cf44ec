import Foundation
import TGRelayCore

/// Where an owed status callback stands.
public enum CallbackState: String, Sendable, Equatable, CaseIterable {
    /// Not yet acknowledged by the receiver; tried at `nextAttemptAt`.
    case pending
    /// The receiver answered 2xx.
    case delivered
    /// Given up after the retry horizon.
    case failed
    /// A fallback that was not needed: its message was delivered, cancelled or expired before it was due.
    case skipped
}

/// What an outbox row tells its receiver; also the `X-Tgrelay-Event` header (`eventName`).
public enum CallbackEvent: String, Sendable, Equatable, CaseIterable {
    /// A message reached a final state (status callbacks).
    case delivered, failed, expired, cancelled
    /// A message was still undelivered when its fallback was due.
    case fallback
    /// An alert rule started or stopped holding.
    case alertRaised = "alert.raised"
    case alertResolved = "alert.resolved"

    public var eventName: String {
        switch self {
        case .alertRaised, .alertResolved: rawValue
        default: "message.\(rawValue)"
        }
    }
}

/// A message's fallback: when it is still undelivered at `due`, its content is POSTed to `url`.
public struct MessageFallback: Sendable, Equatable {
    public var url: String
    public var due: Date
    /// Cancel the Telegram delivery when the fallback is sent (unless a send is already in flight).
    public var cancelDelivery: Bool

    public init(url: String, due: Date, cancelDelivery: Bool) {
        self.url = url
        self.due = due
        self.cancelDelivery = cancelDelivery
    }
}

/// A POST owed to a receiver, kept in one durable outbox (the `callback` table):
/// - a status callback: the message as it was when it reached its final state (a replayed message that
///   becomes final again owes a new callback with its new state);
/// - a fallback: owed from accept, due at the fallback time, and claimed then (`claimFallback`), which
///   fixes its `payload`;
/// - an alert: `messageID` 0, `payload` set when it is enqueued.
public struct OwedCallback: Sendable, Equatable {
    public var id: Int64
    public var messageID: Int64
    public var url: String
    /// For a status callback, the final status reached.
    public var event: CallbackEvent
    public var bot: String
    public var chat: String
    /// The message's counted attempts at that moment.
    public var messageAttempts: Int
    public var telegramMessageIDs: [Int64]
    public var lastError: String?
    public var ambiguous: Bool
    /// When the message reached the final state; also when the callback became owed.
    public var at: Date

    public var state: CallbackState
    /// POSTs made so far.
    public var tries: Int
    public var nextAttemptAt: Date
    /// Why the last POST did not count (an HTTP status or a connection error).
    public var lastAttemptError: String?
    /// When it was delivered or given up.
    public var completedAt: Date?
    /// The exact body to POST, when it is not built from the fields above (fallbacks once claimed, alerts).
    public var payload: String?
    /// A fallback that cancels its message's delivery when claimed.
    public var cancelOnFallback: Bool

    public init(
        id: Int64, messageID: Int64, url: String, event: CallbackEvent, bot: String, chat: String, messageAttempts: Int,
        telegramMessageIDs: [Int64], lastError: String?, ambiguous: Bool, at: Date, state: CallbackState, tries: Int,
        nextAttemptAt: Date, lastAttemptError: String?, completedAt: Date?, payload: String? = nil, cancelOnFallback: Bool = false
    ) {
        self.id = id
        self.messageID = messageID
        self.url = url
        self.event = event
        self.bot = bot
        self.chat = chat
        self.messageAttempts = messageAttempts
        self.telegramMessageIDs = telegramMessageIDs
        self.lastError = lastError
        self.ambiguous = ambiguous
        self.at = at
        self.state = state
        self.tries = tries
        self.nextAttemptAt = nextAttemptAt
        self.lastAttemptError = lastAttemptError
        self.completedAt = completedAt
        self.payload = payload
        self.cancelOnFallback = cancelOnFallback
    }

    /// A fallback not claimed yet: it still has to check its message before anything is sent.
    public var isUnclaimedFallback: Bool { event == .fallback && payload == nil }
}

/// The outcome of one POST of a callback.
public enum CallbackOutcome: Sendable, Equatable {
    case delivered
    case retry(at: Date, error: String)
    case gaveUp(error: String)
}

/// Durable status callbacks. A callback is owed by the same transaction that makes a message final
/// (`record`, `apply`, `cancel`, crash recovery), when the message has a `callbackURL` or the store was
/// opened with `Options.defaultCallbackURL`; the message's own URL wins. So a callback can never be lost
/// between the transition and its enqueueing, and is delivered at least once.
public protocol CallbackStore: Sendable {
    /// Pending callbacks due at `now`, oldest due first, except those of `excludingBots` (bots another
    /// node serves: reading past them in the store keeps their backlog from hiding this node's).
    func dueCallbacks(now: Date, limit: Int, excludingBots: Set<String>) async throws -> [OwedCallback]
    /// Records one POST of a pending callback; a callback no longer pending is left as it is.
    func recordCallbackAttempt(id: Int64, at: Date, outcome: CallbackOutcome) async throws
    /// Callbacks in one state (or all), newest first.
    func callbacks(state: CallbackState?, limit: Int) async throws -> [OwedCallback]
    /// The callbacks owed for one message, oldest first.
    func callbacks(messageID: Int64) async throws -> [OwedCallback]
    /// Claims a due fallback, once: in one transaction, reads its message; when the message is delivered,
    /// cancelled or expired the fallback becomes `skipped` (nil is returned), otherwise its payload is
    /// fixed with `payload(message, cancelled)` and, with `cancelOnFallback`, a queued or waiting message
    /// is cancelled. Returns nil too for a row that is not an unclaimed fallback (claimed already).
    func claimFallback(
        id: Int64, now: Date, payload: @escaping @Sendable (OutboundMessage, _ cancelled: Bool) -> String
    ) async throws -> OwedCallback?
    /// Owes one alert POST (durable, retried like a status callback).
    func enqueueAlert(url: String, event: CallbackEvent, bot: String, payload: String, at: Date) async throws
}

extension OwedCallback {
    /// The fallback as its claim stores it: the payload, and the message's figures at the time of the claim.
    func claimed(payload: String, message: OutboundMessage) -> OwedCallback {
        var claimed = self
        claimed.payload = payload
        claimed.messageAttempts = message.attempts
        claimed.telegramMessageIDs = message.telegramMessageIDs
        claimed.lastError = message.lastError
        claimed.ambiguous = message.ambiguous
        return claimed
    }
}

extension CallbackStore {
    /// Every bot's pending callbacks due at `now` (one node).
    public func dueCallbacks(now: Date, limit: Int) async throws -> [OwedCallback] {
        try await dueCallbacks(now: now, limit: limit, excludingBots: [])
    }
}
