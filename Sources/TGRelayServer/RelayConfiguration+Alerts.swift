import Foundation
import TGRelayCore

extension RelayConfiguration {
    /// Alert rules (`alerts.*`): their thresholds and the webhook that receives raised and resolved alerts.
    public struct Alerts: Sendable {
        /// Receives a signed POST per raised and per resolved alert; without it alerts are only logged
        /// and shown in `/v1/status`.
        public var webhookURL: String?
        public var thresholds = AlertThresholds()
        /// How often the rules are evaluated.
        public var interval: Duration = .seconds(1)

        public init() {}
    }

    /// Reads `alerts.webhook_url`, `alerts.queue_depth`, `alerts.dead_letters_per_hour`,
    /// `alerts.circuit_open_seconds`, `alerts.evaluate_every_seconds`. Runs after `loadCallbacks`: alerts
    /// are signed with `callbacks.secret`.
    mutating func loadAlerts(_ values: StrictValues) throws {
        if let url = try values.string("alerts.webhook_url"), !url.isEmpty {
            guard AcceptRequest.isHTTPURL(url) else {
                throw ConfigurationError(description: "\(StrictValues.name("alerts.webhook_url")): must be an http(s) URL with a host")
            }
            guard callbacks.isEnabled else {
                throw ConfigurationError(
                    description: "\(StrictValues.name("callbacks.secret")): required when alerts.webhook_url is set, alerts are always signed")
            }
            alerts.webhookURL = url
        }
        alerts.thresholds.queueDepth = try values.int("alerts.queue_depth", range: 1...Int(Int32.max)) ?? alerts.thresholds.queueDepth
        alerts.thresholds.deadLettersPerHour =
            try values.int("alerts.dead_letters_per_hour", range: 0...Int(Int32.max)) ?? alerts.thresholds.deadLettersPerHour
        alerts.thresholds.circuitOpenSeconds =
            try values.double("alerts.circuit_open_seconds", range: 0...86_400) ?? alerts.thresholds.circuitOpenSeconds
        if let every = try values.double("alerts.evaluate_every_seconds", range: 0.05...3600) {
            alerts.interval = .milliseconds(Int(every * 1000))
        }
    }
}
