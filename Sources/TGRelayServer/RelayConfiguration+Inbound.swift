import Foundation
import TGRelayCore

extension RelayConfiguration {
    /// Inbound updates (`inbound.*`): how the relay receives them from Telegram, keeps them and hands them on.
    public struct Inbound: Sendable {
        /// Off by default: a relay put in front of a bot that still polls Telegram itself must not take its
        /// updates away. When on, every configured bot is polled (or receives its webhook, once
        /// `tgrelay webhook set` switched it) and its app reads them from the relay.
        public var enabled = false
        /// The long-poll timeout of the relay's own getUpdates (Telegram caps it at 50 s).
        public var pollTimeout = 50
        /// The update types the relay asks Telegram for; nil for Telegram's default.
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

    /// Reads `inbound.enabled`, `inbound.poll_timeout_seconds`, `inbound.allowed_updates`,
    /// `inbound.poll_max_backoff_seconds`, `inbound.retention_days`, `inbound.push_give_up_after_seconds`,
    /// `inbound.push_timeout_seconds`.
    mutating func loadInbound(_ values: StrictValues) throws {
        inbound.enabled = try values.bool("inbound.enabled") ?? inbound.enabled
        inbound.pollTimeout = try values.int("inbound.poll_timeout_seconds", range: 0...50) ?? inbound.pollTimeout
        inbound.allowedUpdates = try values.list("inbound.allowed_updates")
        if let maximum = try values.double("inbound.poll_max_backoff_seconds", range: 0.1...3600) {
            inbound.pollBackoff.maximumDelay = maximum
        }
        if let days = try values.double("inbound.retention_days", range: 1.0 / 24...365) {
            inbound.retention = days * 86_400
        }
        if let horizon = try values.double("inbound.push_give_up_after_seconds", range: 0...(30 * 86_400)) {
            inbound.pushPolicy.horizon = horizon
        }
        if let timeout = try values.double("inbound.push_timeout_seconds", range: 0.001...600) {
            inbound.pushTimeout = .milliseconds(Int(timeout * 1000))
        }
    }
}
