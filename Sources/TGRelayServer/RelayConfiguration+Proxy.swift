import Foundation

extension RelayConfiguration {
    /// The Bot API proxy (`proxy.*`): how long a send waits for its real answer, and how long an identical
    /// resend still finds the message it repeats.
    public struct Proxy: Sendable {
        /// Below python-telegram-bot's default read timeout (5 s), so the library gets an answer, not a timeout.
        public var wait: Duration = .seconds(4)
        /// An identical send attaches to the earlier message while that one is pending, and for this many
        /// seconds after it became final.
        public var dedupWindow: TimeInterval = 60

        public init() {}
    }

    /// Reads `proxy.wait_seconds` and `proxy.dedup_window_seconds`.
    mutating func loadProxy(_ values: StrictValues) throws {
        if let wait = try values.double("proxy.wait_seconds", range: 0...600) {
            proxy.wait = .milliseconds(Int(wait * 1000))
        }
        if let window = try values.double("proxy.dedup_window_seconds", range: 0...86_400) {
            proxy.dedupWindow = window
        }
    }
}
