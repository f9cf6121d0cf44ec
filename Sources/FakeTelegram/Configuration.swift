import Foundation

/// How the simulator is set up. Every field has a default that behaves like api.telegram.org.
public struct FakeTelegramConfiguration: Sendable {
    public var host: String = "127.0.0.1"
    /// 0 binds an ephemeral port; `FakeTelegram.start()` returns the real one.
    public var port: Int = 0
    public var limits: FakeLimits = .telegram
    /// Seeds every random decision (fault rates, jitter, file ids, first update ids).
    public var seed: UInt64 = 1
    /// Faults and updates scheduled relative to `start()`.
    public var scenario: FakeScenario? = nil
    /// Tokens the simulator accepts; nil accepts any syntactically valid `<digits>:<secret>`.
    /// A well-formed token outside this set gets 401 `Unauthorized`.
    public var allowedTokens: Set<String>? = nil
    /// Chats answered with 400 `Bad Request: chat not found`, written as chat_id is sent
    /// ("42", "-100123", "@name"). Chat id 0 is always unknown.
    public var unknownChats: Set<String> = []
    /// Additional rule for unknown chats, e.g. `{ $0.id.map { $0 > 1_000_000 } ?? false }`.
    public var isUnknownChat: (@Sendable (FakeChatRef) -> Bool)? = nil
    /// Unconfirmed updates older than this (on the simulator clock) are dropped, as Telegram does after 24 h.
    public var updateRetention: Duration = .seconds(24 * 3600)
    /// Upper bound of `getUpdates` `timeout` (Telegram caps long polls at 50 s).
    public var maxLongPollTimeout: Duration = .seconds(50)
    public var webhook: FakeWebhookOptions = .init()
    /// Largest accepted request body (Telegram accepts uploads up to 50 MB).
    public var maxBodySize: Int = 50 * 1024 * 1024
    /// Unix time of the simulator's start; nil uses the wall clock. Fix it for byte-identical runs.
    public var startDate: Date? = nil

    public init() {}

    public init(
        host: String = "127.0.0.1",
        port: Int = 0,
        limits: FakeLimits = .telegram,
        seed: UInt64 = 1,
        scenario: FakeScenario? = nil
    ) {
        self.host = host
        self.port = port
        self.limits = limits
        self.seed = seed
        self.scenario = scenario
    }
}

/// How webhook pushes are retried.
public struct FakeWebhookOptions: Sendable {
    /// Delay before the first retry of a failed push; doubles up to `maxBackoff`.
    public var initialBackoff: Duration = .seconds(1)
    public var maxBackoff: Duration = .seconds(60)
    /// Attempts per update before it is given up (dropped), like Telegram does "after a while".
    public var maxAttempts: Int = 20
    /// How long one push may take before it counts as "Read timeout expired".
    public var requestTimeout: Duration = .seconds(60)
    /// Telegram insists on HTTPS; the simulator accepts http:// as well unless this is set.
    public var requireHTTPS: Bool = false

    public init() {}
}

/// At most `count` sends in any sliding window of length `window`.
public struct FakeLimitRule: Sendable, Hashable {
    public var count: Int
    public var window: Duration

    public init(count: Int, window: Duration) {
        self.count = count
        self.window = window
    }
}

/// Telegram's flood limits, per bot (the numeric part of the token). Only sending methods count.
///
/// The private-chat rule is 3 sends in any 2.5 s: a burst of 3 is tolerated, and a client sending
/// evenly once per second never sees a 429 even with ±0.25 s of network jitter (a 3-in-3 s rule
/// would reject such a client whenever a send arrives a few milliseconds early).
public struct FakeLimits: Sendable, Hashable {
    /// Per private chat (positive chat id).
    public var privateChat: FakeLimitRule?
    /// Per group, supergroup or channel (negative chat id or @username).
    public var groupChat: FakeLimitRule?
    /// Per bot across all chats.
    public var bot: FakeLimitRule?
    /// Per bot, for sends carrying `allow_paid_broadcast: true` (replaces `bot` for them).
    public var paidBroadcast: FakeLimitRule?
    /// Real time that one unit of `retry_after` stands for; scaled limits shrink it too.
    public var retryAfterUnit: Duration
    /// How much a lane's penalty grows each time the bot sends into it before `retry_after` passed.
    public var punishment: Duration

    public init(
        privateChat: FakeLimitRule?,
        groupChat: FakeLimitRule?,
        bot: FakeLimitRule?,
        paidBroadcast: FakeLimitRule?,
        retryAfterUnit: Duration = .seconds(1),
        punishment: Duration = .seconds(1)
    ) {
        self.privateChat = privateChat
        self.groupChat = groupChat
        self.bot = bot
        self.paidBroadcast = paidBroadcast
        self.retryAfterUnit = retryAfterUnit
        self.punishment = punishment
    }

    public static let telegram = FakeLimits(
        privateChat: .init(count: 3, window: .milliseconds(2500)),
        groupChat: .init(count: 20, window: .seconds(60)),
        bot: .init(count: 30, window: .seconds(1)),
        paidBroadcast: .init(count: 1000, window: .seconds(1))
    )

    public static let off = FakeLimits(privateChat: nil, groupChat: nil, bot: nil, paidBroadcast: nil)

    /// The same limits with every duration multiplied by `factor` (0.01 runs time 100× faster).
    /// `retry_after` then counts in units of `retryAfterUnit × factor`.
    public func scaled(by factor: Double) -> FakeLimits {
        func scale(_ d: Duration) -> Duration { d * factor }
        func scale(_ r: FakeLimitRule?) -> FakeLimitRule? {
            r.map { FakeLimitRule(count: $0.count, window: scale($0.window)) }
        }
        return FakeLimits(
            privateChat: scale(privateChat),
            groupChat: scale(groupChat),
            bot: scale(bot),
            paidBroadcast: scale(paidBroadcast),
            retryAfterUnit: scale(retryAfterUnit),
            punishment: scale(punishment)
        )
    }
}

extension Duration {
    /// Seconds as a Double, the unit the simulator clock works in.
    var seconds: Double {
        let (s, atto) = components
        return Double(s) + Double(atto) / 1e18
    }

    static func seconds(double value: Double) -> Duration {
        .nanoseconds(Int64((value * 1e9).rounded()))
    }
}
