import ArgumentParser
import FakeTelegram
import Foundation
import Logging

/// `tgrelay fake-telegram`: runs the Bot API simulator as a standalone server.
struct FakeTelegramCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fake-telegram",
        abstract: "Run a Telegram Bot API simulator (limits, errors, faults, updates, webhooks).",
        discussion: """
            Answers /bot<token>/<method> like api.telegram.org: Telegram's flood limits with real 429s \
            and retry_after, exact error texts, getUpdates long polling, webhooks. Faults (outages, \
            refused connections, hangs, lost answers, blocked users…) come from a scenario file or \
            are added at run time through the control API under /_fake/:

              GET  /_fake/stats                requests, 429s, violations, duplicates
              GET  /_fake/messages?bot=&chat=  delivered messages, in order
              POST /_fake/faults     {"kind":"outage","duration":10}
              POST /_fake/updates    {"bot":123,"chat_id":42,"text":"hi"}
              POST /_fake/reset      forget everything recorded

            Example:
              tgrelay fake-telegram --port 8081 --time-scale 0.1
              curl -s localhost:8081/bot123:abc/getMe
              curl -s localhost:8081/bot123:abc/sendMessage -d chat_id=42 -d text=hello
            """
    )

    @Option(help: "Address to listen on.")
    var host: String = "127.0.0.1"

    @Option(help: "Port to listen on (0 picks a free one).")
    var port: Int = 8081

    @Option(help: "Scenario JSON file with scheduled faults, updates and limits.")
    var scenario: String?

    @Option(help: "Seed for every random decision (fault rates, jitter, ids); same seed, same run.")
    var seed: UInt64 = 1

    @Option(help: "Flood limits: 'telegram' (Telegram's real limits) or 'off'.")
    var limits: LimitsPreset = .telegram

    @Option(help: "Multiply every limit window and retry_after unit by this factor (0.1 = ten times faster).")
    var timeScale: Double = 1

    @Option(help: "Only accept these tokens (repeatable); others get 401. Default: any well-formed token.")
    var token: [String] = []

    @Option(help: "Chat ids answered with 'chat not found' (repeatable), e.g. --unknown-chat=-100123.")
    var unknownChat: [String] = []

    @Option(help: "Hours an unconfirmed update is kept.")
    var retentionHours: Double = 24

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    enum LimitsPreset: String, ExpressibleByArgument, CaseIterable {
        case telegram, off
    }

    func validate() throws {
        guard timeScale > 0 else { throw ValidationError("--time-scale must be positive") }
        guard (0...65535).contains(port) else { throw ValidationError("--port must be 0...65535") }
        guard retentionHours > 0 else { throw ValidationError("--retention-hours must be positive") }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("unknown --log-level \(logLevel)") }
    }

    func run() async throws {
        var logger = Logger(label: "fake-telegram")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info

        var config = FakeTelegramConfiguration(host: host, port: port, seed: seed)
        let base: FakeLimits = limits == .telegram ? .telegram : .off
        config.limits = timeScale == 1 ? base : base.scaled(by: timeScale)
        if let scenario {
            config.scenario = try FakeScenario.load(path: scenario)
        }
        if !token.isEmpty { config.allowedTokens = Set(token) }
        config.unknownChats = Set(unknownChat)
        config.updateRetention = .seconds(retentionHours * 3600)

        let fake = FakeTelegram(configuration: config, logger: logger)
        let bound = try await fake.start()
        print("fake-telegram: Bot API simulator on http://\(host):\(bound) (control API at /_fake/, seed \(seed))")
        // Serves until the process is interrupted (SIGINT/SIGTERM end it; the OS closes the socket).
        try await fake.run()
    }
}
