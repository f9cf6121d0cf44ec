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
}

/// A status callback owed to a receiver: the message as it was when it reached its final state (a
/// replayed message that becomes final again owes a new callback with its new state).
public struct OwedCallback: Sendable, Equatable {
    public var id: Int64
    public var messageID: Int64
    public var url: String
    /// The final status reached: delivered, failed, expired or cancelled.
    public var event: MessageStatus
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

    public init(
        id: Int64, messageID: Int64, url: String, event: MessageStatus, bot: String, chat: String, messageAttempts: Int,
        telegramMessageIDs: [Int64], lastError: String?, ambiguous: Bool, at: Date, state: CallbackState, tries: Int,
        nextAttemptAt: Date, lastAttemptError: String?, completedAt: Date?
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
    }
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
    /// Pending callbacks due at `now`, oldest due first.
    func dueCallbacks(now: Date, limit: Int) async throws -> [OwedCallback]
    /// Records one POST of a pending callback; a callback no longer pending is left as it is.
    func recordCallbackAttempt(id: Int64, at: Date, outcome: CallbackOutcome) async throws
    /// Callbacks in one state (or all), newest first.
    func callbacks(state: CallbackState?, limit: Int) async throws -> [OwedCallback]
    /// The callbacks owed for one message, oldest first.
    func callbacks(messageID: Int64) async throws -> [OwedCallback]
}
