import ArgumentParser
import AsyncHTTPClient
import FakeTelegram
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import TGRelayServer
import TGRelayStore

/// `tgrelay demo`: the relay and a Bot API simulator on loopback, a few hundred messages, a 429 burst
/// and a 20-second outage, with live progress and a summary read from the simulator.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Watch tgrelay deliver through a 429 burst and a Telegram outage, losing nothing.",
        discussion: """
            Starts the relay (SQLite store in a temporary file) and a simulated Telegram Bot API with
            Telegram's real limits, both on 127.0.0.1. Sends messages to many chats and groups while the
            simulator answers a burst of 429s and then goes down for 20 seconds. Progress is printed every
            second; while it runs, look at http://127.0.0.1:<port>/v1/status. It ends with a summary read
            from the simulator: accepted, delivered, lost, order kept, 429s.

            Example:
              tgrelay demo
              tgrelay demo --messages 600 --outage 30 --port 9090
            """
    )

    @Option(help: "Port of the relay's REST API.")
    var port: Int = 8080

    @Option(help: "How many messages to send.")
    var messages: Int = 300

    @Option(help: "How many chats to spread them over (one in six is a group).")
    var chats: Int = 60

    @Option(help: "Seconds the simulated Telegram is down.")
    var outage: Int = 20

    func run() async throws {
        let telegram = FakeTelegram(configuration: FakeTelegramConfiguration(), logger: Logger(label: "demo.telegram", factory: { _ in SwiftLogNoOpLogHandler() }))
        _ = try await telegram.start()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tgrelay-demo-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }

        var configuration = RelayConfiguration()
        configuration.listenPort = port
        configuration.database = "sqlite:" + directory.appendingPathComponent("demo.sqlite").path
        configuration.telegramEndpoints = [telegram.baseURL]
        configuration.bots = [.init(name: "default", token: "\(DemoRun.botID):DEMO-TOKEN")]
        configuration.options.requestTimeout = .seconds(5)

        var logger = Logger(label: "tgrelay")
        logger.logLevel = .critical
        let store = try await makeStore(configuration.storeConfiguration())
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        let app = RelayApplication.build(configuration: configuration, store: store, httpClient: http, logger: logger)
        let services = ServiceGroup(configuration: .init(services: [app], logger: logger))
        let server = Task { try await services.run() }

        let run = DemoRun(telegram: telegram, http: http, api: "http://127.0.0.1:\(port)", messages: messages, chats: chats, outage: outage)
        let result: Result<Void, any Error>
        do {
            try await run.waitUntilUp()
            try await run.run()
            result = .success(())
        } catch {
            result = .failure(error)
        }
        await services.triggerGracefulShutdown()
        _ = await server.result
        try? await http.shutdown()
        await telegram.stop()
        try result.get()
        if !run.succeeded { throw ExitCode(1) }
    }
}
