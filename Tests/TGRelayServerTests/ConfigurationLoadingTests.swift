import Foundation
import Testing

@testable import TGRelayServer

/// `RelayConfiguration.load(environment:)`: defaults, TGRELAY_* variables, the TGRELAY_CONFIG file, and errors
/// that name the key without ever showing a secret.
struct ConfigurationLoadingTests {
    static let secret = "424242:VERY-secret-token-value"

    func load(_ environment: [String: String], file: [String: Any]? = nil) async throws -> RelayConfiguration {
        var environment = environment
        if let file {
            let url = try temporaryDirectory().appendingPathComponent("config.json")
            try JSONSerialization.data(withJSONObject: file).write(to: url)
            environment["TGRELAY_CONFIG"] = url.path
        }
        return try await RelayConfiguration.load(environment: environment)
    }

    /// The error's text, or nil when loading succeeded.
    func failure(_ environment: [String: String], file: [String: Any]? = nil) async -> String? {
        do {
            _ = try await load(environment, file: file)
            return nil
        } catch let error as ConfigurationError {
            return error.description
        } catch {
            return "unexpected \(type(of: error)): \(error)"
        }
    }

    @Test func defaultsWorkWithNoConfigurationAtAll() async throws {
        let configuration = try await load([:])
        #expect(configuration.listenHost == "127.0.0.1")
        #expect(configuration.listenPort == 8080)
        #expect(configuration.database == "sqlite:tgrelay.sqlite")
        #expect(configuration.sqlitePath == "tgrelay.sqlite")
        #expect(configuration.telegramEndpoints == ["https://api.telegram.org"])
        #expect(configuration.bots.isEmpty)
        #expect(configuration.apiKeys.isEmpty)
        let defaults = RelayConfiguration.Options()
        #expect(configuration.options.requestTimeout == defaults.requestTimeout)
        #expect(configuration.options.maxInFlight == defaults.maxInFlight)
        #expect(configuration.options.maxAttempts == 5)
        #expect(configuration.options.maxBodyBytes == 1 << 20)
        #expect(configuration.options.maxBatch == 1000)
        #expect(configuration.options.enforceRateLimits)
        #expect(configuration.options.unauthorizedPause == 60)
        #expect(configuration.options.databaseMaxBytes == nil)
    }

    @Test func environmentVariables() async throws {
        let configuration = try await load([
            "TGRELAY_DATABASE": "sqlite:/var/lib/tgrelay/relay.db",
            "TGRELAY_LISTEN": "0.0.0.0:9000",
            "TGRELAY_TELEGRAM_API": "http://localhost:8081, https://api.telegram.org ,",
            "TGRELAY_BOT_TOKEN": Self.secret,
            "TGRELAY_API_KEY": "key-1",
            "TGRELAY_RATE_LIMITS": "off",
            "TGRELAY_OPTIONS_MAX_ATTEMPTS": "7",
        ])
        #expect(configuration.sqlitePath == "/var/lib/tgrelay/relay.db")
        #expect(configuration.listenHost == "0.0.0.0")
        #expect(configuration.listenPort == 9000)
        #expect(configuration.telegramEndpoints == ["http://localhost:8081", "https://api.telegram.org"])
        #expect(configuration.bots.map(\.name) == ["default"])
        #expect(configuration.bot(named: "default")?.token == Self.secret)
        #expect(configuration.bot(named: "default")?.perSecond == 30)
        #expect(configuration.apiKeys == ["key-1"])
        #expect(!configuration.options.enforceRateLimits)
        #expect(configuration.options.maxAttempts == 7)
    }

    @Test func nodeNameAndLeaseTime() async throws {
        let defaults = try await load(["TGRELAY_LISTEN": "127.0.0.1:8123"])
        #expect(defaults.node.id == nil)
        #expect(defaults.nodeID.hasSuffix(":8123"))
        #expect(defaults.node.leaseDuration == 10)
        let named = try await load(["TGRELAY_NODE_ID": "relay-2", "TGRELAY_NODE_LEASE_SECONDS": "4.5"])
        #expect(named.nodeID == "relay-2")
        #expect(named.node.leaseDuration == 4.5)
        let error = await failure(["TGRELAY_NODE_LEASE_SECONDS": "1"])
        #expect(error?.contains("node.lease_seconds (TGRELAY_NODE_LEASE_SECONDS)") == true, "\(error ?? "accepted")")
    }

    @Test(arguments: [
        ("127.0.0.1:8080", "127.0.0.1", 8080), ("[::1]:8080", "::1", 8080), ("[::]:443", "::", 443),
        ("0.0.0.0:0", "0.0.0.0", 0), ("relay.internal:65535", "relay.internal", 65535), (":9090", "127.0.0.1", 9090),
    ])
    func listenAddresses(value: String, host: String, port: Int) async throws {
        let configuration = try await load(["TGRELAY_LISTEN": value])
        #expect(configuration.listenHost == host)
        #expect(configuration.listenPort == port)
    }

    @Test(arguments: ["localhost", "localhost:", "localhost:http", "host:65536", "host:-1", "::1", "[::1]", "[::1:8080", "::1]:8080", "a b:80"])
    func badListenAddressesNameTheKey(value: String) async {
        let error = await failure(["TGRELAY_LISTEN": value])
        #expect(error?.contains("TGRELAY_LISTEN") == true, "\(value): \(error ?? "accepted")")
    }

    @Test func theConfigFileDeclaresBotsKeysAndOptions() async throws {
        let configuration = try await load(["TGRELAY_BOT_TOKEN": Self.secret, "TGRELAY_LISTEN": "127.0.0.1:7000"], file: [
            "listen": "127.0.0.1:6000",
            "database": "sqlite:/tmp/file.sqlite",
            "telegram": ["api": ["http://a.example:8081", "http://b.example:8081"]],
            "api": ["keys": ["k1", "k2"]],
            "bots": ["alerts", "news"],
            "bot": [
                "alerts": ["token": "111:alerts"],
                "news": ["token": "222:news", "paid_broadcast": true],
            ],
            "rate_limits": "off",
            "options": [
                "request_timeout_seconds": 2.5, "max_in_flight": 16, "max_attempts": 3, "max_body_bytes": 4096,
                "unauthorized_pause_seconds": 1, "database_max_bytes": 1_000_000, "lane_window": 50,
            ],
        ])
        #expect(configuration.listenPort == 7000, "the environment wins over the file")
        #expect(configuration.database == "sqlite:/tmp/file.sqlite")
        #expect(configuration.telegramEndpoints == ["http://a.example:8081", "http://b.example:8081"])
        #expect(configuration.apiKeys == ["k1", "k2"])
        #expect(configuration.bots.map(\.name) == ["default", "alerts", "news"])
        #expect(configuration.bot(named: "alerts")?.token == "111:alerts")
        #expect(configuration.bot(named: "alerts")?.perSecond == 30)
        #expect(configuration.bot(named: "news")?.paidBroadcast == true)
        #expect(configuration.bot(named: "news")?.perSecond == 1000)
        #expect(!configuration.options.enforceRateLimits)
        #expect(configuration.options.requestTimeout == .milliseconds(2500))
        #expect(configuration.options.maxInFlight == 16)
        #expect(configuration.options.maxAttempts == 3)
        #expect(configuration.options.maxBodyBytes == 4096)
        #expect(configuration.options.unauthorizedPause == 1)
        #expect(configuration.options.databaseMaxBytes == 1_000_000)
        #expect(configuration.options.laneWindow == 50)
    }

    @Test func aSingleEndpointOrKeyMayBeAPlainStringInTheFile() async throws {
        let configuration = try await load([:], file: [
            "telegram": ["api": "http://self-hosted:8081,https://api.telegram.org"], "api": ["key": "solo"],
        ])
        #expect(configuration.telegramEndpoints == ["http://self-hosted:8081", "https://api.telegram.org"])
        #expect(configuration.apiKeys == ["solo"])
    }

    @Test func aFileBotNamedDefaultReplacesTheEnvironmentsToken() async throws {
        let configuration = try await load(["TGRELAY_BOT_TOKEN": Self.secret], file: [
            "bots": ["default"], "bot": ["default": ["token": "9:file", "per_second": 10]],
        ])
        #expect(configuration.bots.count == 1)
        #expect(configuration.bot(named: "default")?.token == "9:file")
        #expect(configuration.bot(named: "default")?.perSecond == 10)
    }

    @Test func badValuesNameTheKeyAndNeverShowASecret() async throws {
        let file: [(String, [String: Any], String)] = [
            ("missing token", ["bots": ["x"]], "bot.x.token"),
            ("per_second too high", ["bots": ["x"], "bot": ["x": ["token": Self.secret, "per_second": 5000]]], "bot.x.per_second"),
            ("per_second zero", ["bots": ["x"], "bot": ["x": ["token": Self.secret, "per_second": 0]]], "bot.x.per_second"),
            ("rate_limits typo", ["rate_limits": "of"], "rate_limits"),
            ("max_attempts zero", ["options": ["max_attempts": 0]], "options.max_attempts"),
            ("max_in_flight negative", ["options": ["max_in_flight": -1]], "options.max_in_flight"),
            ("max_body_bytes zero", ["options": ["max_body_bytes": 0]], "options.max_body_bytes"),
            ("request timeout zero", ["options": ["request_timeout_seconds": 0]], "options.request_timeout_seconds"),
            ("max_attempts as words", ["options": ["max_attempts": "five"]], "options.max_attempts"),
            ("endpoint not a URL", ["telegram": ["api": ["api.telegram.org"]]], "telegram.api"),
        ]
        for (name, config, key) in file {
            let error = await failure(["TGRELAY_BOT_TOKEN": Self.secret, "TGRELAY_API_KEY": "hidden-key"], file: config)
            #expect(error?.contains(key) == true, "\(name): \(error ?? "accepted")")
            #expect(error?.contains(Self.secret) == false, "\(name) shows the token")
            #expect(error?.contains("hidden-key") == false, "\(name) shows the API key")
        }
        let environment: [(String, [String: String], String)] = [
            ("max_attempts as words", ["TGRELAY_OPTIONS_MAX_ATTEMPTS": "lots"], "TGRELAY_OPTIONS_MAX_ATTEMPTS"),
            ("timeout as words", ["TGRELAY_OPTIONS_REQUEST_TIMEOUT_SECONDS": "soon"], "TGRELAY_OPTIONS_REQUEST_TIMEOUT_SECONDS"),
            ("rate_limits typo", ["TGRELAY_RATE_LIMITS": "none"], "TGRELAY_RATE_LIMITS"),
            ("endpoint without scheme", ["TGRELAY_TELEGRAM_API": "localhost:8081"], "TGRELAY_TELEGRAM_API"),
        ]
        for (name, variables, key) in environment {
            let error = await failure(variables.merging(["TGRELAY_BOT_TOKEN": Self.secret]) { $1 })
            #expect(error?.contains(key) == true, "\(name): \(error ?? "accepted")")
            #expect(error?.contains(Self.secret) == false, "\(name) shows the token")
        }
        let unreadable = await failure(["TGRELAY_CONFIG": "/nonexistent/tgrelay.json"])
        #expect(unreadable?.contains("TGRELAY_CONFIG") == true)
        let url = try temporaryDirectory().appendingPathComponent("broken.json")
        try Data("{\"bots\": [\"x\"], \"bot\": {\"x\": {\"token\": \"\(Self.secret)\"".utf8).write(to: url)
        let broken = await failure(["TGRELAY_CONFIG": url.path])
        #expect(broken?.contains("TGRELAY_CONFIG") == true)
        #expect(broken?.contains(Self.secret) == false)
    }

    @Test func sqlitePathForms() throws {
        var configuration = RelayConfiguration()
        configuration.database = "/data/relay.db"
        #expect(configuration.sqlitePath == "/data/relay.db")
        configuration.database = "postgres://relay:hunter2-secret@db/relay"
        #expect(configuration.sqlitePath == nil)
        #expect(try configuration.storeConfiguration().location == "postgres://relay:***@db:5432/relay?sslmode=prefer")
        configuration.database = "postgres://relay:hunter2-secret@db/relay?sslmode=maybe"
        let error = #expect(throws: ConfigurationError.self) { try configuration.storeConfiguration() }
        #expect(error?.description.contains("TGRELAY_DATABASE") == true)
        #expect(error?.description.contains("hunter2") == false)
    }
}
