import Foundation
import TGRelayCore

extension RelayConfiguration {
    /// Status callbacks (`callbacks.*`): where final states are POSTed and how they are signed.
    public struct Callbacks: Sendable {
        /// Receives the final state of every message without its own `callback_url`.
        public var url: String?
        /// The HMAC-SHA256 key. Without it the relay sends no callback at all: an unsigned one could be
        /// forged by anyone who can reach the receiver, so `callback_url` is refused at accept instead.
        public var secret: [UInt8]?
        public var policy = CallbackPolicy()
        /// Cut a POST that hangs after this long; it then counts as a failed try.
        public var timeout: Duration = .seconds(10)

        public init() {}

        public var isEnabled: Bool { secret != nil }
    }

    /// Reads `callbacks.url`, `callbacks.secret`, `callbacks.give_up_after_seconds`, `callbacks.timeout_seconds`.
    mutating func loadCallbacks(_ values: StrictValues) throws {
        if let secret = try values.string("callbacks.secret", isSecret: true), !secret.isEmpty {
            // Short keys can be brute-forced from one signed body.
            guard secret.utf8.count >= 16 else {
                throw ConfigurationError(description: "\(StrictValues.name("callbacks.secret")): at least 16 bytes are needed")
            }
            callbacks.secret = Array(secret.utf8)
        }
        if let url = try values.string("callbacks.url"), !url.isEmpty {
            guard AcceptRequest.isHTTPURL(url) else {
                throw ConfigurationError(description: "\(StrictValues.name("callbacks.url")): must be an http(s) URL with a host")
            }
            guard callbacks.secret != nil else {
                throw ConfigurationError(
                    description: "\(StrictValues.name("callbacks.secret")): required when callbacks.url is set, callbacks are always signed")
            }
            callbacks.url = url
        }
        if let horizon = try values.double("callbacks.give_up_after_seconds", range: 0...(30 * 86_400)) {
            callbacks.policy.horizon = horizon
        }
        if let timeout = try values.double("callbacks.timeout_seconds", range: 0.001...600) {
            callbacks.timeout = .milliseconds(Int(timeout * 1000))
        }
    }
}
