import Configuration
import Foundation
import SystemPackage

/// A configuration that cannot be used; the message names the key, never a secret value.
public struct ConfigurationError: Error, CustomStringConvertible {
    public let description: String
}

extension RelayConfiguration {
    /// Reads `TGRELAY_*` environment variables, then the JSON file named by `TGRELAY_CONFIG`.
    ///
    /// Keys (environment name → file path): `TGRELAY_DATABASE` → `database`, `TGRELAY_LISTEN` → `listen`
    /// (`host:port`), `TGRELAY_TELEGRAM_API` → `telegram.api` (comma-separated), `TGRELAY_BOT_TOKEN` →
    /// `bot.token` (the bot named `default`, with `bot.per_second`), `TGRELAY_API_KEY` → `api.key`, and in the file only:
    /// `api.keys` (list), `bots` (list of names) with `bot.<name>.token`, `bot.<name>.per_second`,
    /// `bot.<name>.paid_broadcast`, `bot.<name>.fallback_url` with `bot.<name>.fallback_after_seconds` and
    /// `bot.<name>.cancel_on_fallback` (`bot.fallback_url`, … for the `default` bot), `rate_limits` (`telegram`, or `off` for a limitless self-hosted server;
    /// env `TGRELAY_RATE_LIMITS`), and `options.request_timeout_seconds`, `options.max_in_flight`,
    /// `options.max_attempts`, `options.max_body_bytes`,
    /// `options.unauthorized_pause_seconds`, `options.database_max_bytes`, and `ledger.hash_chat_ids` with
    /// `ledger.chat_key` (the ledger keeps HMAC-SHA256 of chat ids instead of the ids), and `callbacks.url`,
    /// `callbacks.secret`, `callbacks.give_up_after_seconds`, `callbacks.timeout_seconds` (status callbacks;
    /// env `TGRELAY_CALLBACKS_URL`, `TGRELAY_CALLBACKS_SECRET`, …), `alerts.webhook_url`,
    /// `alerts.queue_depth`, `alerts.dead_letters_per_hour`, `alerts.circuit_open_seconds` (alert rules), `proxy.wait_seconds`,
    /// `proxy.dedup_window_seconds` (the Bot API proxy), `inbound.*` (inbound updates, see `loadInbound`),
    /// `retention.days` (default 90, 0 keeps everything), `retention.interval_seconds`, and `node.id`,
    /// `node.lease_seconds` (several nodes on one database, see `loadNode`).
    public static func load(environment: [String: String] = ProcessInfo.processInfo.environment) async throws -> Self {
        let secrets: Set<String> = ["TGRELAY_BOT_TOKEN", "TGRELAY_API_KEY", "TGRELAY_CALLBACKS_SECRET", "TGRELAY_DATABASE"]
        var providers: [any ConfigProvider] = [
            EnvironmentVariablesProvider(environmentVariables: environment, secretsSpecifier: .specific(secrets))
                .prefixKeys(with: "tgrelay")
        ]
        if let path = environment["TGRELAY_CONFIG"], !path.isEmpty {
            do {
                providers.append(try await FileProvider<JSONSnapshot>(filePath: FilePath(path)))
            } catch {
                throw ConfigurationError(description: "TGRELAY_CONFIG: cannot read \(path) as JSON")
            }
        }
        return try Self(reader: ConfigReader(providers: providers))
    }

    init(reader config: ConfigReader) throws {
        self.init()
        let values = StrictValues(config)
        // Secret: a PostgreSQL URL may hold a password.
        database = try values.string("database", isSecret: true) ?? database
        if let listen = try values.string("listen") {
            (listenHost, listenPort) = try Self.parseListen(listen)
        }
        if let api = try values.list("telegram.api"), !api.isEmpty {
            telegramEndpoints = try api.map { try Self.endpoint($0) }
        }
        // One key is taken whole (a key may contain a comma); `api.keys` is the list.
        if let key = try values.string("api.key", isSecret: true), !key.isEmpty { apiKeys.append(key) }
        apiKeys += try values.list("api.keys", isSecret: true) ?? []

        // Callbacks first: a bot's fallback is signed with `callbacks.secret`.
        try loadCallbacks(values)
        if let token = try values.string("bot.token", isSecret: true), !token.isEmpty {
            // `bot.per_second` is what `tgrelay calibrate` writes for the default bot.
            let perSecond = try values.double("bot.per_second", range: 0.1...1000) ?? 30
            bots.append(Bot(name: "default", token: token, perSecond: perSecond, fallback: try loadFallback(values, scope: "bot.")))
        }
        for name in try values.list("bots") ?? [] {
            let scope = "bot.\(name)."
            guard let token = try values.string(scope + "token", isSecret: true), !token.isEmpty else {
                throw ConfigurationError(description: "bot.\(name).token: missing")
            }
            let paid = try values.bool(scope + "paid_broadcast") ?? false
            let perSecond = try values.double(scope + "per_second") ?? (paid ? 1000 : 30)
            guard perSecond > 0, perSecond <= 1000 else {
                throw ConfigurationError(description: "bot.\(name).per_second: must be in 0<…≤1000")
            }
            bots.removeAll { $0.name == name }
            bots.append(
                Bot(name: name, token: token, perSecond: perSecond, paidBroadcast: paid, fallback: try loadFallback(values, scope: scope)))
        }

        let timeout = try values.double("options.request_timeout_seconds", range: 0.001...3600) ?? 15
        options.requestTimeout = .milliseconds(Int(timeout * 1000))
        options.maxInFlight = try values.int("options.max_in_flight", range: 1...100_000) ?? options.maxInFlight
        options.laneWindow = try values.int("options.lane_window", range: 1...10_000_000) ?? options.laneWindow
        options.maxAttempts = try values.int("options.max_attempts", range: 1...1000) ?? options.maxAttempts
        options.groupSpacing = try values.double("options.group_spacing_seconds", range: 0...3) ?? options.groupSpacing
        options.maxBodyBytes = try values.int("options.max_body_bytes", range: 1...(1 << 30)) ?? options.maxBodyBytes
        switch try values.string("rate_limits") ?? "telegram" {
        case "telegram": options.enforceRateLimits = true
        case "off": options.enforceRateLimits = false
        default: throw ConfigurationError(description: "\(StrictValues.name("rate_limits")): must be telegram or off")
        }
        options.unauthorizedPause =
            try values.double("options.unauthorized_pause_seconds", range: 0...86_400) ?? options.unauthorizedPause
        options.databaseMaxBytes = try values.int("options.database_max_bytes", range: 1...Int.max).map(Int64.init)
        if try values.bool("ledger.hash_chat_ids") == true {
            guard let key = try values.string("ledger.chat_key", isSecret: true), key.utf8.count >= 16 else {
                throw ConfigurationError(
                    description: "\(StrictValues.name("ledger.chat_key")): at least 16 bytes are needed when ledger.hash_chat_ids is on")
            }
            options.ledgerChatKey = Array(key.utf8)
        }
        try loadAlerts(values)
        try loadProxy(values)
        try loadInbound(values)
        try loadRetention(values)
        try loadNode(values)
    }

    /// `host:port`; an IPv6 host goes in brackets (`[::1]:8080`), since its own colons would make the port
    /// ambiguous. An empty host means loopback.
    static func parseListen(_ value: String) throws -> (String, Int) {
        let invalid = ConfigurationError(description: "TGRELAY_LISTEN (listen): expected host:port or [ipv6]:port, got \(value)")
        guard let colon = value.lastIndex(of: ":"), let port = Int(value[value.index(after: colon)...]),
            (0...65535).contains(port)
        else { throw invalid }
        var host = String(value[..<colon])
        if host.hasPrefix("[") || host.hasSuffix("]") {
            guard host.count > 2, host.hasPrefix("["), host.hasSuffix("]") else { throw invalid }
            host = String(host.dropFirst().dropLast())
            guard !host.contains(where: { $0 == "[" || $0 == "]" }) else { throw invalid }
        } else if host.contains(":") {
            throw invalid
        }
        guard !host.contains(where: \.isWhitespace) else { throw invalid }
        return (host.isEmpty ? "127.0.0.1" : host, port)
    }

    /// A Bot API base URL: http(s) with a host, so a missing scheme fails at start-up, not at the first send.
    static func endpoint(_ text: String) throws -> String {
        guard let url = URL(string: text), ["http", "https"].contains(url.scheme?.lowercased() ?? ""), url.host?.isEmpty == false else {
            throw ConfigurationError(description: "\(StrictValues.name("telegram.api")): \(text) is not an http(s) URL")
        }
        return text
    }
}

/// Reads values so that one present but unusable is an error naming its key, never a silent default:
/// swift-configuration's non-throwing accessors return nil for a value of the wrong type, which would turn
/// `"max_attempts": "five"` into 5 attempts without a word. Messages never include a value.
struct StrictValues {
    let config: ConfigReader

    init(_ config: ConfigReader) {
        self.config = config
    }

    /// The key as both sources spell it: `options.max_attempts (TGRELAY_OPTIONS_MAX_ATTEMPTS)`.
    static func name(_ key: String) -> String {
        let variable = "TGRELAY_" + key.uppercased().map { $0 == "." ? "_" : $0 }.reduce(into: "") { $0.append($1) }
        return "\(key) (\(variable))"
    }

    func string(_ key: String, isSecret: Bool = false) throws -> String? {
        if let value = config.string(forKey: ConfigKey(key), isSecret: isSecret) { return value }
        try requireAbsent(key, isSecret: isSecret, expected: "a string")
        return nil
    }

    /// A list, or one string of comma-separated items (what an environment variable holds, and what a file
    /// with a single endpoint or key naturally says); blank items are dropped.
    func list(_ key: String, isSecret: Bool = false) throws -> [String]? {
        let items: [String]
        if let array = config.stringArray(forKey: ConfigKey(key), isSecret: isSecret) {
            items = array
        } else if let text = config.string(forKey: ConfigKey(key), isSecret: isSecret) {
            items = text.split(separator: ",").map(String.init)
        } else {
            try requireAbsent(key, isSecret: isSecret, expected: "a list of strings")
            return nil
        }
        return items.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    func int(_ key: String, range: ClosedRange<Int>) throws -> Int? {
        if let value = config.int(forKey: ConfigKey(key)) {
            guard range.contains(value) else { throw outOfRange(key, range) }
            return value
        }
        try requireAbsent(key, isSecret: false, expected: "an integer")
        return nil
    }

    func double(_ key: String, range: ClosedRange<Double> = -Double.greatestFiniteMagnitude...Double.greatestFiniteMagnitude) throws -> Double? {
        if let value = config.double(forKey: ConfigKey(key)) {
            guard range.contains(value) else { throw outOfRange(key, range) }
            return value
        }
        try requireAbsent(key, isSecret: false, expected: "a number")
        return nil
    }

    func bool(_ key: String) throws -> Bool? {
        if let value = config.bool(forKey: ConfigKey(key)) { return value }
        try requireAbsent(key, isSecret: false, expected: "true or false")
        return nil
    }

    /// Throws when the key holds a value of any other type.
    private func requireAbsent(_ key: String, isSecret: Bool, expected: String) throws {
        let configKey = ConfigKey(key)
        let present =
            config.string(forKey: configKey, isSecret: isSecret) != nil || config.int(forKey: configKey) != nil
            || config.double(forKey: configKey) != nil || config.bool(forKey: configKey) != nil
            || config.stringArray(forKey: configKey, isSecret: isSecret) != nil
        if present { throw ConfigurationError(description: "\(Self.name(key)): must be \(expected)") }
    }

    private func outOfRange<T: Comparable>(_ key: String, _ range: ClosedRange<T>) -> ConfigurationError {
        ConfigurationError(description: "\(Self.name(key)): must be between \(range.lowerBound) and \(range.upperBound)")
    }
}
