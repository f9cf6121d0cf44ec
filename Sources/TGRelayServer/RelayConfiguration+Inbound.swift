import Foundation
import TGRelayCore

extension RelayConfiguration {
    /// Inbound updates (`inbound.*`, and per bot `bot.<name>.inbound.*`): how the relay receives them from
    /// Telegram, keeps them and hands them on.
    public struct Inbound: Sendable {
        /// Off by default: a relay put in front of a bot that still polls Telegram itself must not take its
        /// updates away. When on, every configured bot is polled (or receives its webhook, once
        /// `tgrelay webhook set` switched it) and its app reads them from the relay.
        public var enabled = false
        /// The long-poll timeout of the relay's own getUpdates (Telegram caps it at 50 s).
        public var pollTimeout = 50
        /// The update types the relay asks Telegram for; nil: what the app asked for (getUpdates' or
        /// setWebhook's `allowed_updates` on the relay), else Telegram's default.
        public var allowedUpdates: [String]?
        public var pollBackoff = PollBackoff()
        /// How long updates are kept, whatever their state (Telegram keeps unconfirmed ones 24 h).
        public var retention: TimeInterval = 7 * 86_400
        /// Push retries: as status callbacks, 1 s doubling to 5 min, dead-lettered after the horizon.
        public var pushPolicy = CallbackPolicy()
        /// Cut a push POST that hangs after this long.
        public var pushTimeout: Duration = .seconds(10)

        public init() {}
    }

    /// Whether any bot receives its updates through the relay.
    public var inboundEnabled: Bool { bots.contains { $0.inbound.enabled } }

    /// Reads `inbound.*`, the defaults of every bot, then each bot's own `bot.<name>.inbound.*` (for the
    /// default bot `bot.inbound.*`): `enabled`, `poll_timeout_seconds`, `allowed_updates`,
    /// `poll_max_backoff_seconds` and `push_give_up_after_seconds`. `inbound.retention_days` and
    /// `inbound.push_timeout_seconds` are relay-wide. Runs after the bots are read.
    mutating func loadInbound(_ values: StrictValues) throws {
        try Self.loadBotInbound(values, scope: "inbound.", into: &inbound)
        if let days = try values.double("inbound.retention_days", range: 1.0 / 24...365) {
            inbound.retention = days * 86_400
        }
        if let timeout = try values.double("inbound.push_timeout_seconds", range: 0.001...600) {
            inbound.pushTimeout = .milliseconds(Int(timeout * 1000))
        }
        for index in bots.indices {
            var own = inbound
            let name = bots[index].name
            for scope in name == "default" ? ["bot.inbound.", "bot.default.inbound."] : ["bot.\(name).inbound."] {
                try Self.loadBotInbound(values, scope: scope, into: &own)
            }
            bots[index].inbound = own
        }
    }

    /// The keys a bot may set for itself, under `scope`; absent keys keep what `inbound` holds.
    private static func loadBotInbound(_ values: StrictValues, scope: String, into inbound: inout Inbound) throws {
        inbound.enabled = try values.bool(scope + "enabled") ?? inbound.enabled
        inbound.pollTimeout = try values.int(scope + "poll_timeout_seconds", range: 0...50) ?? inbound.pollTimeout
        inbound.allowedUpdates = try values.list(scope + "allowed_updates") ?? inbound.allowedUpdates
        if let maximum = try values.double(scope + "poll_max_backoff_seconds", range: 0.1...3600) {
            inbound.pollBackoff.maximumDelay = maximum
        }
        if let horizon = try values.double(scope + "push_give_up_after_seconds", range: 0...(30 * 86_400)) {
            inbound.pushPolicy.horizon = horizon
        }
    }
}
