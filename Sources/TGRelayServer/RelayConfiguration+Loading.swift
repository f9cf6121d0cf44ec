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
    /// `bot.token` (the bot named `default`), `TGRELAY_API_KEY` → `api.key`, and in the file only:
    /// `api.keys` (list), `bots` (list of names) with `bot.<name>.token`, `bot.<name>.per_second`,
    /// `bot.<name>.paid_broadcast`, `rate_limits` (`telegram`, or `off` for a limitless self-hosted server;
    /// env `TGRELAY_RATE_LIMITS`), and `options.request_timeout_seconds`, `options.max_in_flight`,
    /// `options.max_attempts`, `options.max_body_bytes`,
    /// `options.unauthorized_pause_seconds`, `options.database_max_bytes`.
    public static func load(environment: [String: String] = ProcessInfo.processInfo.environment) async throws -> Self {
        let secrets: Set<String> = ["TGRELAY_BOT_TOKEN", "TGRELAY_API_KEY"]
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
        database = config.string(forKey: "database", default: database)
        if let listen = config.string(forKey: "listen") {
            (listenHost, listenPort) = try Self.parseListen(listen)
        }
        if let api = config.stringArray(forKey: "telegram.api"), !api.isEmpty {
            telegramEndpoints = api.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        if let key = config.string(forKey: "api.key", isSecret: true), !key.isEmpty { apiKeys.append(key) }
        apiKeys += config.stringArray(forKey: "api.keys", isSecret: true) ?? []

        if let token = config.string(forKey: "bot.token", isSecret: true), !token.isEmpty {
            bots.append(Bot(name: "default", token: token))
        }
        for name in config.stringArray(forKey: "bots") ?? [] {
            let scope = config.scoped(to: ConfigKey(["bot", name]))
            guard let token = scope.string(forKey: "token", isSecret: true), !token.isEmpty else {
                throw ConfigurationError(description: "bot.\(name).token: missing")
            }
            let paid = scope.bool(forKey: "paid_broadcast", default: false)
            let perSecond = scope.double(forKey: "per_second", default: paid ? 1000 : 30)
            guard perSecond > 0, perSecond <= 1000 else {
                throw ConfigurationError(description: "bot.\(name).per_second: must be in 0<…≤1000")
            }
            bots.removeAll { $0.name == name }
            bots.append(Bot(name: name, token: token, perSecond: perSecond, paidBroadcast: paid))
        }

        let opts = config.scoped(to: "options")
        options.requestTimeout = .milliseconds(Int(opts.double(forKey: "request_timeout_seconds", default: 15) * 1000))
        options.maxInFlight = opts.int(forKey: "max_in_flight", default: options.maxInFlight)
        options.maxAttempts = opts.int(forKey: "max_attempts", default: options.maxAttempts)
        options.maxBodyBytes = opts.int(forKey: "max_body_bytes", default: options.maxBodyBytes)
        options.enforceRateLimits = config.string(forKey: "rate_limits", default: "telegram") != "off"
        options.unauthorizedPause = opts.double(forKey: "unauthorized_pause_seconds", default: options.unauthorizedPause)
        options.databaseMaxBytes = opts.int(forKey: "database_max_bytes").map(Int64.init)
    }

    static func parseListen(_ value: String) throws -> (String, Int) {
        guard let colon = value.lastIndex(of: ":"), let port = Int(value[value.index(after: colon)...]),
            (0...65535).contains(port)
        else {
            throw ConfigurationError(description: "TGRELAY_LISTEN: expected host:port, got \(value)")
        }
        var host = String(value[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return (host.isEmpty ? "127.0.0.1" : host, port)
    }
}
