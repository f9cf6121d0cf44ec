import ArgumentParser
import AsyncHTTPClient
import Hummingbird
import Logging
import TGRelayServer
import TGRelayStore

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the relay: REST API, durable outbox and dispatcher.",
        discussion: """
            Configuration comes from the environment (and the JSON file named by TGRELAY_CONFIG):
              TGRELAY_DATABASE      sqlite:PATH (default sqlite:tgrelay.sqlite)
              TGRELAY_LISTEN        host:port (default 127.0.0.1:8080)
              TGRELAY_TELEGRAM_API  Bot API base URL(s), comma-separated (default https://api.telegram.org)
              TGRELAY_BOT_TOKEN     token of the bot named "default"
              TGRELAY_API_KEY       bearer key for the REST API (unset: loopback only)
              TGRELAY_CALLBACKS_SECRET  HMAC key of status callbacks (unset: callback_url is refused)
              TGRELAY_CALLBACKS_URL     receives the final state of messages without their own callback_url
              TGRELAY_ALERTS_WEBHOOK_URL  receives raised and resolved alerts (signed; needs the callbacks secret)
              TGRELAY_INBOUND_ENABLED   true: receive and store updates (see README "Inbound updates")

            Example:
              TGRELAY_BOT_TOKEN=123456:ABC tgrelay serve
              curl -X POST localhost:8080/v1/messages -d '{"chat_id": 42, "text": "hello"}'
            """
    )

    @Option(help: "Log level (trace, debug, info, notice, warning, error).")
    var logLevel: Logger.Level = .info

    func run() async throws {
        let configuration = try await RelayConfiguration.load()
        let logger = {
            var logger = Logger(label: "tgrelay")
            logger.logLevel = logLevel
            return logger
        }()
        let store = try await makeStore(configuration.storeConfiguration())
        var clientConfiguration = HTTPClient.Configuration()
        // Every lane in flight may hold a connection; the default pool of 8 would serialize them.
        clientConfiguration.connectionPool = .init(
            idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: configuration.options.maxInFlight)
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
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
