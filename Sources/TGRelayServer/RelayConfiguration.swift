import Foundation
import TGRelayCore

/// Everything `tgrelay serve` needs; every field has a default that works with no configuration.
public struct RelayConfiguration: Sendable {
    public struct Bot: Sendable {
        public var name: String
        public var token: String
        /// Bot-wide messages per second; raise up to 1000 when paid broadcasts are enabled.
        public var perSecond: Double
        public var paidBroadcast: Bool
        /// What a message of this bot falls back to when it gives none of its own.
        public var fallback: Fallback?
        /// This bot's inbound settings: `inbound.*` with its own `bot.<name>.inbound.*` on top.
        public var inbound = Inbound()

        public init(name: String, token: String, perSecond: Double = 30, paidBroadcast: Bool = false, fallback: Fallback? = nil) {
            self.name = name
            self.token = token
            self.perSecond = perSecond
            self.paidBroadcast = paidBroadcast
            self.fallback = fallback
        }
    }

    /// Delivery tuning; the defaults are DESIGN.md's.
    public struct Options: Sendable {
        /// Cut a hung request after this long; it then counts as an ambiguous transient failure.
        public var requestTimeout: Duration = .seconds(15)
        /// Most sends in flight at once, over all lanes, from reading a lane's head to recording the attempt:
        /// the two durable commits around each request take longer than the request itself on a fast
        /// Bot API, so this is several times the HTTP connections (at most 256 per Bot API host).
        public var maxInFlight: Int = 1024
        /// Most lanes per bot the dispatcher holds in memory; further lanes with work wait in the store
        /// and are paged in as room frees up, so memory does not grow with the number of lanes.
        public var laneWindow: Int = 10_000
        public var maxAttempts: Int = 5
        /// Least time between two sends to one group, supergroup or channel (within its 20 a minute).
        public var groupSpacing: TimeInterval = RateLimits.defaultGroupSpacing
        /// Largest accepted request body (413 beyond it).
        public var maxBodyBytes: Int = 1 << 20
        /// Largest `/v1/messages/batch` or broadcast.
        public var maxBatch: Int = 1000
        /// How long a bot whose token Telegram refused (401) waits before trying again.
        public var unauthorizedPause: TimeInterval = 60
        /// When false the relay schedules no rate limits at all: for a self-hosted Bot API server without
        /// limits, and for benchmarks. Telegram itself always needs them.
        public var enforceRateLimits = true
        /// A cap on the store's size in bytes: reaching it makes accepts answer 503, like a full disk.
        public var databaseMaxBytes: Int64?
        /// When set (`ledger.hash_chat_ids`), the ledger keeps HMAC-SHA256(key, chat id) instead of chat ids.
        public var ledgerChatKey: [UInt8]?

        public init() {}
    }

    public var listenHost: String = "127.0.0.1"
    public var listenPort: Int = 8080
    /// `sqlite:PATH` or `postgres://user:password@host:port/database`.
    public var database: String = "sqlite:tgrelay.sqlite"
    /// Bot API base URLs in priority order.
    public var telegramEndpoints: [String] = ["https://api.telegram.org"]
    public var bots: [Bot] = []
    /// Bearer keys for the REST API; when empty, the REST API answers only on loopback.
    public var apiKeys: [String] = []
    public var options = Options()
    public var callbacks = Callbacks()
    public var alerts = Alerts()
    public var proxy = Proxy()
    public var inbound = Inbound()
    public var retention = Retention()
    public var node = Node()

    public init() {}

    public func bot(named name: String) -> Bot? {
        bots.first { $0.name == name }
    }

    /// The SQLite path of `database` (`sqlite:PATH` or a plain path).
    public var sqlitePath: String? {
        if database.hasPrefix("sqlite:") { return String(database.dropFirst("sqlite:".count)) }
        if database.contains("://") { return nil }
        return database
    }
}

import TGRelayStore

extension RelayConfiguration {
    /// The store `database` names: `sqlite:PATH` (or a plain path) or `postgres://user:password@host/db`.
    public func storeConfiguration() throws -> StoreConfiguration {
        let storeOptions = StoreConfiguration.Options(
            maximumSize: options.databaseMaxBytes, ledgerChatKey: options.ledgerChatKey,
            defaultCallbackURL: callbacks.url)
        if database.hasPrefix("postgres://") || database.hasPrefix("postgresql://") {
            do {
                return try .postgres(url: database, options: storeOptions)
            } catch {
                // The URL may hold a password: the message names the key only.
                throw ConfigurationError(description: "TGRELAY_DATABASE: \(error)")
            }
        }
        guard let path = sqlitePath, !path.isEmpty else {
            throw ConfigurationError(description: "TGRELAY_DATABASE: expected sqlite:PATH or postgres://user:password@host:port/database")
        }
        return .sqlite(path: path, options: storeOptions)
    }
}
