import Foundation

/// Where a message is in its life. Final states never change again (except by an explicit replay).
public enum MessageStatus: String, Sendable, Codable, CaseIterable {
    case queued, sending, waiting
    case delivered, failed, expired, cancelled

    public var isFinal: Bool {
        switch self {
        case .delivered, .failed, .expired, .cancelled: true
        case .queued, .sending, .waiting: false
        }
    }
}

/// A lane is (bot, chat): messages in one lane are delivered strictly in accept order.
public struct LaneKey: Hashable, Sendable, CustomStringConvertible {
    public var bot: String
    /// Canonical chat reference: a decimal integer ("-1001234") or "@username".
    public var chat: String

    public init(bot: String, chat: String) {
        self.bot = bot
        self.chat = chat
    }

    public var description: String { "\(bot)/\(chat)" }
    public var chatKind: ChatKind { ChatKind(chat: chat) }
}

/// Telegram limits private chats and groups differently (see TELEGRAM.md "Limits").
public enum ChatKind: Sendable, Equatable {
    case privateChat
    /// Groups, supergroups and channels: negative ids and @usernames.
    case group

    public init(chat: String) {
        if chat.hasPrefix("@") || chat.hasPrefix("-") {
            self = .group
        } else {
            self = .privateChat
        }
    }
}

/// A message as the store keeps it.
public struct OutboundMessage: Sendable, Equatable {
    public var id: Int64
    public var bot: String
    /// The current target; changes when a group migrates to a supergroup.
    public var chat: String
    public var method: String
    /// The Bot API parameters as a JSON object (canonical text: sorted keys, no chat_id rewrite).
    public var params: String
    /// Hex SHA-256 of the canonical (method, params); idempotency compares it.
    public var payloadHash: String
    public var status: MessageStatus
    /// Counted attempts (429s and circuit-open waits are not counted).
    public var attempts: Int
    /// The message is not to be sent before this time (retry backoff, retry_after).
    public var notBefore: Date?
    /// After this time the message expires instead of being sent.
    public var deadline: Date?
    public var idempotencyKey: String?
    public var atMostOnce: Bool
    public var callbackURL: String?
    public var createdAt: Date
    public var updatedAt: Date
    /// Telegram's `result` JSON once delivered.
    public var result: String?
    /// The `message_id`(s) Telegram returned.
    public var telegramMessageIDs: [Int64]
    /// Telegram's description (or ours) of the last failure; the dead-letter reason when failed.
    public var lastError: String?
    /// True once an attempt may have reached Telegram without an answer.
    public var ambiguous: Bool
    /// How many files were uploaded with the message (sent as multipart/form-data).
    public var uploadCount: Int

    public init(
        id: Int64, bot: String, chat: String, method: String, params: String, payloadHash: String,
        status: MessageStatus = .queued, attempts: Int = 0, notBefore: Date? = nil, deadline: Date? = nil,
        idempotencyKey: String? = nil, atMostOnce: Bool = false, callbackURL: String? = nil,
        createdAt: Date, updatedAt: Date, result: String? = nil, telegramMessageIDs: [Int64] = [],
        lastError: String? = nil, ambiguous: Bool = false, uploadCount: Int = 0
    ) {
        self.id = id
        self.bot = bot
        self.chat = chat
        self.method = method
        self.params = params
        self.payloadHash = payloadHash
        self.status = status
        self.attempts = attempts
        self.notBefore = notBefore
        self.deadline = deadline
        self.idempotencyKey = idempotencyKey
        self.atMostOnce = atMostOnce
        self.callbackURL = callbackURL
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.result = result
        self.telegramMessageIDs = telegramMessageIDs
        self.lastError = lastError
        self.ambiguous = ambiguous
        self.uploadCount = uploadCount
    }

    public var lane: LaneKey { LaneKey(bot: bot, chat: chat) }
}
