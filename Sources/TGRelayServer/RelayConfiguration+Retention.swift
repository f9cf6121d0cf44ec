import Foundation

extension RelayConfiguration {
    /// How long finished messages and ledger rows are kept (`retention.*`).
    public struct Retention: Sendable {
        /// Age after which delivered, expired and cancelled messages, settled callbacks and ledger rows are
        /// deleted; nil keeps everything. Dead letters stay until replayed or purged.
        public var maximumAge: TimeInterval? = 90 * 86_400
        /// How often the housekeeping pass runs.
        public var interval: TimeInterval = 3600

        public init() {}
    }

    /// Reads `retention.days` (0 keeps everything; env `TGRELAY_RETENTION_DAYS`) and `retention.interval_seconds`.
    mutating func loadRetention(_ values: StrictValues) throws {
        if let days = try values.double("retention.days", range: 0...36_500) {
            retention.maximumAge = days == 0 ? nil : days * 86_400
        }
        retention.interval = try values.double("retention.interval_seconds", range: 1...86_400) ?? retention.interval
    }
}
