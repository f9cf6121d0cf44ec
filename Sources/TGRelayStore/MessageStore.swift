import Foundation
import TGRelayCore

/// A message to accept: everything the caller chose, nothing the store assigns.
public struct NewMessage: Sendable, Equatable {
    public var bot: String
    public var chat: String
    public var method: String
    public var params: String
    public var payloadHash: String
    public var idempotencyKey: String?
    public var deadline: Date?
    public var atMostOnce: Bool
    public var callbackURL: String?

    public init(
        bot: String, chat: String, method: String, params: String, payloadHash: String,
        idempotencyKey: String? = nil, deadline: Date? = nil, atMostOnce: Bool = false, callbackURL: String? = nil
    ) {
        self.bot = bot
        self.chat = chat
        self.method = method
        self.params = params
        self.payloadHash = payloadHash
        self.idempotencyKey = idempotencyKey
        self.deadline = deadline
        self.atMostOnce = atMostOnce
        self.callbackURL = callbackURL
    }
}

public enum AcceptResult: Sendable, Equatable {
    /// Newly stored (durably committed).
    case created(OutboundMessage)
    /// Same bot + idempotency key + same payload hash: the existing message.
    case existing(OutboundMessage)
    /// Same bot + idempotency key, different payload.
    case conflict(existingID: Int64)
}

/// One attempt to send a message and the transition it causes; stored with its ledger row in one transaction.
public struct AttemptRecord: Sendable, Equatable {
    public var messageID: Int64
    public var at: Date
    /// Base URL of the Bot API endpoint, never including the token.
    public var endpoint: String
    public var method: String
    public var httpStatus: Int?
    public var ok: Bool
    public var errorCode: Int?
    public var description: String?
    public var retryAfter: Int?
    public var telegramMessageIDs: [Int64]
    public var durationMs: Double
    public var responseBody: String?
    /// The outcome class (e.g. "delivered", "rate_limited", "transient", "ambiguous", "rejected").
    public var outcome: String
    public var ambiguous: Bool

    // The transition of the message.
    public var newStatus: MessageStatus
    /// Whether this attempt counts against the attempt budget.
    public var countsAsAttempt: Bool
    public var notBefore: Date?
    public var lastError: String?
    /// Telegram's `result` JSON when delivered.
    public var result: String?

    public init(
        messageID: Int64, at: Date, endpoint: String, method: String, httpStatus: Int?, ok: Bool,
        errorCode: Int? = nil, description: String? = nil, retryAfter: Int? = nil, telegramMessageIDs: [Int64] = [],
        durationMs: Double, responseBody: String?, outcome: String, ambiguous: Bool = false,
        newStatus: MessageStatus, countsAsAttempt: Bool, notBefore: Date? = nil, lastError: String? = nil,
        result: String? = nil
    ) {
        self.messageID = messageID
        self.at = at
        self.endpoint = endpoint
        self.method = method
        self.httpStatus = httpStatus
        self.ok = ok
        self.errorCode = errorCode
        self.description = description
        self.retryAfter = retryAfter
        self.telegramMessageIDs = telegramMessageIDs
        self.durationMs = durationMs
        self.responseBody = responseBody
        self.outcome = outcome
        self.ambiguous = ambiguous
        self.newStatus = newStatus
        self.countsAsAttempt = countsAsAttempt
        self.notBefore = notBefore
        self.lastError = lastError
        self.result = result
    }
}

/// A state change without a Telegram attempt (expiry, fail-fast on an inactive chat, cancel).
public struct Transition: Sendable, Equatable {
    public var messageID: Int64
    public var at: Date
    public var newStatus: MessageStatus
    public var notBefore: Date?
    public var lastError: String?

    public init(messageID: Int64, at: Date, newStatus: MessageStatus, notBefore: Date? = nil, lastError: String? = nil) {
        self.messageID = messageID
        self.at = at
        self.newStatus = newStatus
        self.notBefore = notBefore
        self.lastError = lastError
    }
}

public struct LedgerEntry: Sendable, Equatable, Codable {
    public var seq: Int64
    public var at: Date
    public var messageID: Int64
    public var bot: String
    public var chat: String
    public var method: String
    public var payloadHash: String
    public var endpoint: String
    public var httpStatus: Int?
    public var ok: Bool
    public var errorCode: Int?
    public var description: String?
    public var retryAfter: Int?
    public var telegramMessageIDs: [Int64]
    public var durationMs: Double
    public var responseBody: String?
    public var outcome: String
    public var ambiguous: Bool
    public var prevHash: String
    public var hash: String
}

public struct LedgerQuery: Sendable, Equatable {
    public var messageID: Int64?
    public var chat: String?
    public var bot: String?
    public var since: Date?
    public var until: Date?
    /// Entries with seq greater than this (paging).
    public var afterSeq: Int64?
    public var limit: Int

    public init(messageID: Int64? = nil, chat: String? = nil, bot: String? = nil, since: Date? = nil, until: Date? = nil, afterSeq: Int64? = nil, limit: Int = 100) {
        self.messageID = messageID
        self.chat = chat
        self.bot = bot
        self.since = since
        self.until = until
        self.afterSeq = afterSeq
        self.limit = limit
    }
}

public enum LedgerVerification: Sendable, Equatable {
    case valid(rows: Int64)
    /// The first row whose hash or link does not match.
    case broken(atSeq: Int64, reason: String)
}

public struct DeadLetterFilter: Sendable, Equatable {
    public var bot: String?
    public var chat: String?
    /// Substring of the reason (lastError).
    public var reasonContains: String?
    public var limit: Int

    public init(bot: String? = nil, chat: String? = nil, reasonContains: String? = nil, limit: Int = 100) {
        self.bot = bot
        self.chat = chat
        self.reasonContains = reasonContains
        self.limit = limit
    }
}

/// Per-bot counts for status pages and alerts.
public struct BotCounts: Sendable, Equatable {
    public var bot: String
    public var pending: Int
    public var oldestPending: Date?
    public var delivered: Int
    public var failed: Int
    public var expired: Int
    public var cancelled: Int
}

/// Durable storage of outbound messages, lanes, chat state and the ledger.
///
/// Every mutating call returns only after its transaction is committed durably; concurrent calls are
/// grouped into shared commits by the driver. A failed commit throws and leaves nothing half-written.
public protocol MessageStore: Sendable {
    /// Stores all messages in one transaction. Idempotency keys are scoped per bot.
    func accept(_ messages: [NewMessage], now: Date) async throws -> [AcceptResult]
    func message(id: Int64) async throws -> OutboundMessage?
    /// Cancels a message that is queued or waiting; returns the message as it is afterwards (nil if unknown).
    func cancel(id: Int64, now: Date) async throws -> OutboundMessage?

    /// Lanes that have at least one non-final message, for one bot or all.
    func pendingLanes(bot: String?) async throws -> [LaneKey]
    /// The oldest (in lane order) non-final message of a lane.
    func laneHead(_ lane: LaneKey) async throws -> OutboundMessage?
    /// Marks a message `sending` before its request goes out, so a crash leaves evidence of ambiguity.
    func markSending(id: Int64, now: Date) async throws
    /// Updates the message and appends the hash-chained ledger row, atomically.
    func record(_ attempt: AttemptRecord) async throws
    /// A transition without an attempt (expired, failed fast, waiting).
    func apply(_ transition: Transition) async throws
    /// After a crash: messages left `sending` become `waiting` and are flagged ambiguous
    /// (or `failed` with reason `outcome_unknown` when accepted with at_most_once). Returns how many.
    func recoverInterruptedSends(now: Date) async throws -> Int

    /// The group became a supergroup: every non-final message of (bot, from) now targets `to`; the mapping is kept.
    func migrateChat(bot: String, from: String, to: String, now: Date) async throws
    func chatMigration(bot: String, chat: String) async throws -> String?
    /// Marks a chat inactive (403): later messages fail fast with the reason.
    func setChatInactive(bot: String, chat: String, reason: String, now: Date) async throws
    func reactivateChat(bot: String, chat: String) async throws
    func inactiveReason(bot: String, chat: String) async throws -> String?
    func inactiveChats(bot: String?) async throws -> [(chat: String, bot: String, reason: String, since: Date)]

    func deadLetters(_ filter: DeadLetterFilter) async throws -> [OutboundMessage]
    /// Puts failed messages back at the end of their lanes as `queued` with a fresh attempt budget.
    func replay(ids: [Int64], now: Date) async throws -> [OutboundMessage]
    func replayDeadLetters(_ filter: DeadLetterFilter, now: Date) async throws -> [OutboundMessage]

    func ledger(_ query: LedgerQuery) async throws -> [LedgerEntry]
    func verifyLedger() async throws -> LedgerVerification

    func counts() async throws -> [BotCounts]
}
