import ArgumentParser
import AsyncHTTPClient
import Hummingbird
import Foundation
import Logging
import TGRelayServer
import TGRelayStore

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the relay: REST API, durable outbox and dispatcher.",
        discussion: """
            Configuration comes from the environment (and the JSON file named by TGRELAY_CONFIG):
              TGRELAY_DATABASE      sqlite:PATH (default sqlite:tgrelay.sqlite) or postgres://user:password@host:port/db
              TGRELAY_LISTEN        host:port (default 127.0.0.1:8080)
              TGRELAY_TELEGRAM_API  Bot API base URL(s), comma-separated (default https://api.telegram.org)
              TGRELAY_BOT_TOKEN     token of the bot named "default"
              TGRELAY_API_KEY       bearer key for the REST API (unset: loopback only)
              TGRELAY_CALLBACKS_SECRET  HMAC key of status callbacks (unset: callback_url is refused)
              TGRELAY_CALLBACKS_URL     receives the final state of messages without their own callback_url
              TGRELAY_ALERTS_WEBHOOK_URL  receives raised and resolved alerts (signed; needs the callbacks secret)
              TGRELAY_INBOUND_ENABLED   true: receive and store updates (see README "Inbound updates")
              TGRELAY_NODE_ID       this node's name when several share one PostgreSQL database (default hostname:port)
              TGRELAY_NODE_LEASE_SECONDS  how long a bot's lease lasts unless renewed (default 10; README "Several nodes")
              TGRELAY_LOG_LEVEL, TGRELAY_LOG_FORMAT  defaults of --log-level and --log-format

            Logs go to stderr, one line per message state change at info; secrets never appear in them.
            Metrics for Prometheus are at /metrics (same API key as the REST API).

            Example:
              TGRELAY_BOT_TOKEN=123456:ABC tgrelay serve
              curl -X POST localhost:8080/v1/messages -d '{"chat_id": 42, "text": "hello"}'
            """
    )

    @Option(help: "Log level: trace, debug, info (every message state change), notice, warning, error (default: TGRELAY_LOG_LEVEL or info).")
    var logLevel: Logger.Level?

    @Option(help: "Log line format: text (key=value) or json (one object per line) (default: TGRELAY_LOG_FORMAT or text).")
    var logFormat: RelayLogHandler.Format?

    func run() async throws {
        let configuration = try await RelayConfiguration.load()
        let environment = ProcessInfo.processInfo.environment
        let level = try logLevel ?? Self.fromEnvironment(environment, "TGRELAY_LOG_LEVEL") ?? .info
        let format = try logFormat ?? Self.fromEnvironment(environment, "TGRELAY_LOG_FORMAT") ?? .text
        // Every logger of the process (ours, Hummingbird's, the HTTP client's) writes through the redacting handler.
        let redactor = SecretRedactor(secrets: configuration.secrets)
        LoggingSystem.bootstrap { label in
            var handler = RelayLogHandler(label: label, format: format, redactor: redactor)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "tgrelay")
        let store = try await makeStore(configuration.storeConfiguration())
        var clientConfiguration = HTTPClient.Configuration()
        // Sends in flight share the connections; the default pool of 8 would serialize them. More than 256
        // per host only cost both ends (most of a send's time in flight is its store commits).
        clientConfiguration.connectionPool = .init(
            idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: min(configuration.options.maxInFlight, 256))
        // A refused connection fails its request at once: the relay's circuit breaker and retry policies
        // decide what comes next. The pool's own backoff grows to a minute during a long outage of refused
        // connections and would hold the first sends (and the probes) back long after Telegram is back.
        clientConfiguration.connectionPool.retryConnectionEstablishment = false
        let httpClient = HTTPClient(eventLoopGroupProvider: .singleton, configuration: clientConfiguration)
        let app = RelayApplication.build(configuration: configuration, store: store, httpClient: httpClient, logger: logger) { port in
            logger.info("tgrelay listening", metadata: ["address": "\(configuration.listenHost):\(port)"])
        }
        do {
            try await app.runService()
        } catch {
            try? await httpClient.shutdown()
            throw error
        }
        try await httpClient.shutdown()
    }

    private static func fromEnvironment<T: ExpressibleByArgument>(_ environment: [String: String], _ name: String) throws -> T? {
        guard let text = environment[name], !text.isEmpty else { return nil }
        guard let value = T(argument: text) else { throw ValidationError("\(name): unknown value \(text)") }
        return value
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
extension RelayLogHandler.Format: ExpressibleByArgument {}
