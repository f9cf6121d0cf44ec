import Foundation

extension RelayConfiguration {
    /// A bot's default fallback (`bot.<name>.fallback_url`, `bot.<name>.fallback_after_seconds`,
    /// `bot.<name>.cancel_on_fallback`); a message's own fields override each part.
    public struct Fallback: Sendable, Equatable {
        public var url: String
        public var afterSeconds: Double
        public var cancelOnFallback: Bool

        public init(url: String, afterSeconds: Double, cancelOnFallback: Bool = false) {
            self.url = url
            self.afterSeconds = afterSeconds
            self.cancelOnFallback = cancelOnFallback
        }
    }

    /// The longest wait before a fallback, as for `ttl_seconds`: beyond it a time would not fit the store.
    static let maximumFallbackAfter = AcceptRequest.maximumTTL

    /// Reads a bot's fallback keys under `scope` (`bot.<name>.`). Runs after `loadCallbacks`: a fallback is
    /// signed like a callback, so it needs `callbacks.secret`.
    func loadFallback(_ values: StrictValues, scope: String) throws -> Fallback? {
        let url = try values.string(scope + "fallback_url")
        let after = try values.double(scope + "fallback_after_seconds", range: 0.001...Self.maximumFallbackAfter)
        let cancel = try values.bool(scope + "cancel_on_fallback")
        guard let url, !url.isEmpty else {
            if after != nil || cancel != nil {
                throw ConfigurationError(description: "\(StrictValues.name(scope + "fallback_url")): required by the bot's other fallback keys")
            }
            return nil
        }
        guard AcceptRequest.isHTTPURL(url) else {
            throw ConfigurationError(description: "\(StrictValues.name(scope + "fallback_url")): must be an http(s) URL with a host")
        }
        guard let after else {
            throw ConfigurationError(description: "\(StrictValues.name(scope + "fallback_after_seconds")): required with fallback_url")
        }
        guard callbacks.isEnabled else {
            throw ConfigurationError(
                description: "\(StrictValues.name("callbacks.secret")): required by \(scope)fallback_url, fallbacks are always signed")
        }
        return Fallback(url: url, afterSeconds: after, cancelOnFallback: cancel ?? false)
    }
}
