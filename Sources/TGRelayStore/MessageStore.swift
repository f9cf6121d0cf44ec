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
    /// Owed in the accept transaction as a pending outbox row due at `fallback.due`.
    public var fallback: MessageFallback?
    /// Files uploaded with the message (multipart), kept apart from `params` and out of the ledger.
    public var uploads: [FileUpload]
    /// When set, a message of the same bot with the same payload hash that is still pending, or became
    /// final less than this many seconds ago, is returned as `existing` instead (the proxy's answer to a
    /// library that resends after a timeout). Applies between calls, not within one.
    public var dedupWindow: TimeInterval?

    public init(
        bot: String, chat: String, method: String, params: String, payloadHash: String,
        idempotencyKey: String? = nil, deadline: Date? = nil, atMostOnce: Bool = false, callbackURL: String? = nil,
        fallback: MessageFallback? = nil, uploads: [FileUpload] = [], dedupWindow: TimeInterval? = nil
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
        self.fallback = fallback
        self.uploads = uploads
        self.dedupWindow = dedupWindow
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
    /// The method that was called, for the caller's logs; the ledger takes the method from the message
    /// row so that it always matches the payload hash.
    public var method: String
    public var httpStatus: Int?
    public var ok: Bool
    public var errorCode: Int?
    public var description: String?
    public var retryAfter: Int?
    /// Replaces the message's ids when not empty (a failed attempt keeps the earlier ones).
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
    /// Telegram's `result` JSON when delivered; nil keeps the message's earlier result.
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
    /// Messages queued, sending or waiting.
    public var pending: Int
    /// Creation time of the oldest pending message.
    public var oldestPending: Date?
    public var delivered: Int
    public var failed: Int
    public var expired: Int
    public var cancelled: Int

    public init(
        bot: String, pending: Int = 0, oldestPending: Date? = nil, delivered: Int = 0, failed: Int = 0,
        expired: Int = 0, cancelled: Int = 0
    ) {
        self.bot = bot
        self.pending = pending
        self.oldestPending = oldestPending
        self.delivered = delivered
        self.failed = failed
        self.expired = expired
        self.cancelled = cancelled
    }
}

extension BotCounts {
    /// Adds `n` messages in the stored status `status` (a raw value; unknown ones mean a corrupt row).
    mutating func add(_ n: Int, status: String) throws {
        switch MessageStatus(rawValue: status) {
        case .queued, .sending, .waiting: pending += n
        case .delivered: delivered += n
        case .failed: failed += n
        case .expired: expired += n
        case .cancelled: cancelled += n
        case nil: throw StoreError(code: .corrupt, detail: "unknown message status")
        }
    }
}

/// A chat the bot may no longer write to (403: blocked, kicked, deactivated).
public struct InactiveChat: Sendable, Equatable {
    public var bot: String
    public var chat: String
    public var reason: String
    /// When the chat was first marked inactive (a repeated 403 does not move it).
    public var since: Date

    public init(bot: String, chat: String, reason: String, since: Date) {
        self.bot = bot
        self.chat = chat
        self.reason = reason
        self.since = since
    }
}

/// Durable storage of outbound messages, lanes, chat state and the ledger.
///
/// Every mutating call returns only after its transaction is committed durably; concurrent calls are
/// grouped into shared commits by the driver. A failed commit throws and leaves nothing half-written.
/// Errors are `StoreError`; `isUnavailable` ones (disk full, I/O, database locked or down) are worth
/// retrying later and map to 503 + Retry-After.
///
/// Times are kept to the millisecond and ledger durations to the microsecond: values read back are
/// rounded to that precision.
public protocol MessageStore: CallbackStore, InboxStore, LeaseStore, Sendable {
    /// Stores all messages in one transaction, in order: `results[i]` answers `messages[i]`.
    /// Idempotency keys are scoped per bot and also apply between messages of the same call.
    /// The chat is stored as given: callers resolve `chatMigration` first if they want to.
    func accept(_ messages: [NewMessage], now: Date) async throws -> [AcceptResult]
    func message(id: Int64) async throws -> OutboundMessage?
    /// The files stored with a message, in upload order (empty once it was delivered, cancelled or expired:
    /// only a dead letter may be sent again).
    func uploads(messageID: Int64) async throws -> [FileUpload]
    /// Cancels a message that is queued or waiting; returns the message as it is afterwards (nil if unknown).
    func cancel(id: Int64, now: Date) async throws -> OutboundMessage?

    /// Up to `limit` lanes that have at least one non-final message, for one bot or all, ordered by bot
    /// then chat, starting after `after` (from the first lane when nil). Paging keeps the caller's memory
    /// bounded however many lanes wait; each page is one range read of an index on (bot, chat).
    func pendingLanes(bot: String?, after: LaneKey?, limit: Int) async throws -> [LaneKey]
    /// The oldest (in lane order) non-final message of each lane given, read from one snapshot.
    /// Lanes without such a message are absent from the answer.
    func laneHeads(_ lanes: [LaneKey]) async throws -> [LaneKey: OutboundMessage]
    /// Marks messages `sending` in one durable commit before their requests go out, so a crash leaves
    /// evidence of ambiguity. Returns the ids that were marked: only messages that were `queued` or
    /// `waiting` change; the caller must not send the others (cancelled, expired, already being sent,
    /// unknown).
    func markSending(ids: [Int64], now: Date) async throws -> Set<Int64>
    /// Updates each message and appends its hash-chained ledger row, all in one transaction, in the order
    /// given (the chain follows that order). The ledger row's bot, chat, method and payload hash come from
    /// the message row. Throws `StoreError.Code.notFound`, recording none, if any message is unknown.
    func record(_ attempts: [AttemptRecord]) async throws
    /// A transition without an attempt (expired, failed fast, waiting). Applies only to a non-final
    /// message (final states never change, so a cancel racing an expiry is harmless); returns whether
    /// it applied.
    @discardableResult
    func apply(_ transition: Transition) async throws -> Bool

    /// The group became a supergroup: every non-final message of (bot, from) now targets `to`; the
    /// mapping is kept. Messages keep their place in accept order, so they merge into the `to` lane by
    /// accept order.
    func migrateChat(bot: String, from: String, to: String, now: Date) async throws
    /// Where a migrated chat went (following chains), nil if it never migrated.
    func chatMigration(bot: String, chat: String) async throws -> String?
    /// Marks a chat inactive (403): later messages fail fast with the reason.
    func setChatInactive(bot: String, chat: String, reason: String, now: Date) async throws
    func reactivateChat(bot: String, chat: String) async throws
    func inactiveReason(bot: String, chat: String) async throws -> String?
    /// Inactive chats, for one bot or all, ordered by bot then chat.
    func inactiveChats(bot: String?) async throws -> [InactiveChat]

    /// Failed messages, newest failure first.
    func deadLetters(_ filter: DeadLetterFilter) async throws -> [OutboundMessage]
    /// Puts failed messages back at the end of their lanes as `queued` with a fresh attempt budget
    /// (attempts 0, no notBefore, lastError cleared: the ledger keeps the history; `ambiguous` stays,
    /// since an earlier attempt may still have reached Telegram). Ids that are unknown or not failed
    /// are skipped; returns the replayed messages in the order given.
    func replay(ids: [Int64], now: Date) async throws -> [OutboundMessage]
    /// Replays the dead letters the filter selects (up to its limit), newest failure first.
    func replayDeadLetters(_ filter: DeadLetterFilter, now: Date) async throws -> [OutboundMessage]

    /// Deletes failed messages for good (the ledger keeps their attempts). Ids that are unknown or not failed
    /// are skipped; returns the purged ids in the order given.
    func purge(ids: [Int64]) async throws -> [Int64]
    /// Purges the dead letters the filter selects (up to its limit), newest failure first.
    func purgeDeadLetters(_ filter: DeadLetterFilter) async throws -> [Int64]
    /// Retention: deletes messages that became delivered, expired or cancelled before `before`, and status
    /// callbacks settled before it. Dead letters (failed) stay until replayed or purged; nothing pending is
    /// touched. Returns how many messages were deleted.
    func pruneFinishedMessages(before: Date) async throws -> Int

    /// Ledger rows matching the query in seq order.
    func ledger(_ query: LedgerQuery) async throws -> [LedgerEntry]
    /// Walks the whole chain from its anchor and names the first row that does not fit.
    func verifyLedger() async throws -> LedgerVerification
    /// Deletes the oldest ledger rows (every row before the first one at or after `before`) after
    /// checking them, and moves the anchor to the last deleted row so the rest stays verifiable.
    /// Throws `StoreError.Code.ledgerBroken` (deleting nothing) if the rows to delete do not verify.
    /// Returns how many rows were deleted.
    func pruneLedger(before: Date) async throws -> Int

    func counts() async throws -> [BotCounts]
    /// Throws (an `isUnavailable` error) unless the store can commit a write now: `/readyz`.
    func checkWritable(now: Date) async throws

    /// Waits for calls in flight, then releases the database. Later calls throw `StoreError.Code.closed`.
    func close() async throws
}

/// Single-lane and single-message forms of the batch operations, for callers that have just one.
extension MessageStore {
    /// Every lane with a non-final message, for one bot or all, ordered by bot then chat (read page by page).
    public func pendingLanes(bot: String?) async throws -> [LaneKey] {
        var lanes: [LaneKey] = []
        while true {
            let page = try await pendingLanes(bot: bot, after: lanes.last, limit: 1000)
            lanes += page
            if page.count < 1000 { return lanes }
        }
    }

    /// The oldest (in lane order) non-final message of a lane.
    public func laneHead(_ lane: LaneKey) async throws -> OutboundMessage? {
        try await laneHeads([lane])[lane]
    }

    /// Marks one message `sending`; false, changing nothing, unless it was `queued` or `waiting`.
    @discardableResult
    public func markSending(id: Int64, now: Date) async throws -> Bool {
        try await markSending(ids: [id], now: now).contains(id)
    }

    /// Records one attempt with its ledger row; `StoreError.Code.notFound` for an unknown message.
    public func record(_ attempt: AttemptRecord) async throws {
        try await record([attempt])
    }
}
