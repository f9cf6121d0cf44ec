import Foundation

/// At most `count` sends in any `window` seconds, and consecutive sends at least `spacing` apart.
public struct WindowLimit: Sendable, Equatable {
    public var count: Int
    public var window: TimeInterval
    /// Sends leave paced rather than in bursts of `count`: a burst queues on the way and at the
    /// receiving end and arrives spread out, and the window would then count those late arrivals
    /// against the next burst. Defaults to the nominal interval, `window / count`.
    public var spacing: TimeInterval

    public init(count: Int, per window: TimeInterval, spacing: TimeInterval? = nil) {
        precondition(count > 0 && window > 0, "a window limit needs a positive count and window")
        self.count = count
        self.window = window
        self.spacing = spacing ?? window / Double(count)
    }

    /// The nominal rate in sends per second.
    public var rate: Double { Double(count) / window }
}

/// When a burst of 429s means the bot as a whole is over its limit, not one chat.
public struct StormDetection: Sendable, Equatable {
    /// 429s from at least this many distinct lanes…
    public var distinctLanes: Int
    /// …within this many seconds pause the whole bot.
    public var window: TimeInterval

    public init(distinctLanes: Int = 3, window: TimeInterval = 1) {
        self.distinctLanes = distinctLanes
        self.window = window
    }
}

/// One bot's limits (TELEGRAM.md "Limits"; Telegram's FAQ figures are the defaults).
public struct RateLimits: Sendable, Equatable {
    public var privateChat: WindowLimit
    /// Groups, supergroups and channels: 20 a minute, paced at two a second by default, so a group gets
    /// its 20 in the first 10 seconds of a minute. The FAQ's "about one per second in a single chat"
    /// tolerates short bursts; one at once (the reference limiter's, python-telegram-bot's) is not needed,
    /// and one per second would add 9.5 s to every minute of a long group backlog.
    public var group: WindowLimit
    /// All sends of the bot together.
    public var bot: WindowLimit
    /// The overall limit for sends with `allow_paid_broadcast`, when the bot has paid broadcasts;
    /// `nil` when it has not (such sends are then limited like any other).
    public var paidBroadcast: WindowLimit?
    /// Added to every window. Telegram counts sends when they arrive, and arrival differs from our
    /// send time by network jitter: two sends `window + 2·jitter` apart arrive at least `window`
    /// apart. The default covers ±15 ms with 0.5 ms to spare and costs 3 % of the nominal rate at 1 s
    /// windows (30/s becomes 29.1/s), 0.05 % at 60 s windows.
    public var safetyMargin: TimeInterval
    public var storm: StormDetection

    public init(
        privateChat: WindowLimit = WindowLimit(count: 1, per: 1),
        group: WindowLimit = WindowLimit(count: 20, per: 60, spacing: RateLimits.defaultGroupSpacing),
        bot: WindowLimit = WindowLimit(count: 30, per: 1),
        paidBroadcast: WindowLimit? = nil,
        safetyMargin: TimeInterval = 0.0305,
        storm: StormDetection = StormDetection()
    ) {
        self.privateChat = privateChat
        self.group = group
        self.bot = bot
        self.paidBroadcast = paidBroadcast
        self.safetyMargin = safetyMargin
        self.storm = storm
    }

    public static let defaultGroupSpacing: TimeInterval = 0.5

    /// Telegram's published defaults, without paid broadcasts.
    public static let telegramDefaults = RateLimits()

    /// The most Telegram allows with paid broadcasts on.
    public static let paidBroadcastMaximum = WindowLimit(count: 1000, per: 1)

    public func chatLimit(for kind: ChatKind) -> WindowLimit {
        switch kind {
        case .privateChat: privateChat
        case .group: group
        }
    }
}

/// Limits for every bot: defaults with per-bot overrides (e.g. a bot with paid broadcasts).
public struct RateLimitTable: Sendable, Equatable {
    public var defaults: RateLimits
    public var overrides: [String: RateLimits]

    public init(defaults: RateLimits = .telegramDefaults, overrides: [String: RateLimits] = [:]) {
        self.defaults = defaults
        self.overrides = overrides
    }

    public func limits(forBot bot: String) -> RateLimits {
        overrides[bot] ?? defaults
    }
}
