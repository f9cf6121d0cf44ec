import ArgumentParser
import AsyncHTTPClient
import Foundation
import TGRelayCore
import TGRelayServer
import TGRelayStore
import TelegramBotAPI

struct WebhookCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "webhook",
        abstract: "Switch a bot between long polling and Telegram's webhook to the relay.",
        discussion: """
            Uses the configuration of `tgrelay serve` (TGRELAY_* and TGRELAY_CONFIG) and its store; safe while the
            relay runs, which follows the switch within seconds. Needs inbound.enabled on the relay.

            Examples:
              tgrelay webhook set --url https://relay.example.com/telegram/default/webhook
              tgrelay webhook delete
            """,
        subcommands: [SetWebhook.self, DeleteWebhook.self]
    )

    struct Options: ParsableArguments {
        @Option(help: "The bot's name in the configuration.")
        var bot = "default"

        @Option(help: "The store, e.g. sqlite:tgrelay.sqlite (default: TGRELAY_DATABASE or sqlite:tgrelay.sqlite).")
        var database: String?

        func load() async throws -> (RelayConfiguration, RelayConfiguration.Bot, any MessageStore) {
            var configuration = try await RelayConfiguration.load()
            if let database { configuration.database = database }
            guard let bot = configuration.bot(named: bot) else {
                throw ValidationError("no bot named \(bot) is configured")
            }
            return (configuration, bot, try await makeStore(configuration.storeConfiguration()))
        }
    }

    struct SetWebhook: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set",
            abstract: "Call setWebhook with a new secret token; the relay then accepts updates on its webhook route.",
            discussion: """
                The URL must reach the relay's POST /telegram/<bot>/webhook (through your HTTPS front end). The
                generated secret is stored, never printed: Telegram sends it back in X-Telegram-Bot-Api-Secret-Token.

                Example:
                  tgrelay webhook set --url https://relay.example.com/telegram/default/webhook
                """
        )

        @OptionGroup var options: Options

        @Option(help: "The public HTTPS URL of the relay's webhook route for this bot.")
        var url: String

        func run() async throws {
            let (configuration, bot, store) = try await options.load()
            let before = try await store.inboxSettings(bot: bot.name).mode
            // Stored first, so the receiver already accepts Telegram's first POST.
            let secret = Self.newSecret()
            try await store.setInboundMode(bot: bot.name, .webhook(secret: secret))
            var params: [String: JSONValue] = ["url": .string(url), "secret_token": .string(secret)]
            if let allowed = bot.inbound.allowedUpdates { params["allowed_updates"] = .array(allowed.map { .string($0) }) }
            if let failure = await WebhookCommand.call(configuration, bot, "setWebhook", params) {
                try await store.setInboundMode(bot: bot.name, before)
                print("setWebhook failed: \(failure)")
                throw ExitCode(1)
            }
            try await store.close()
            print("webhook set for bot \(bot.name); the relay stops polling it")
        }

        /// 32 random bytes as base64url: 43 characters of Telegram's allowed A-Z a-z 0-9 _ -.
        static func newSecret() -> String {
            var generator = SystemRandomNumberGenerator()
            let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
            return Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
                .replacingOccurrences(of: "=", with: "")
        }
    }

    struct DeleteWebhook: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "delete",
            abstract: "Call deleteWebhook (keeping pending updates) and return the bot to long polling.",
            discussion: """
                Example:
                  tgrelay webhook delete --bot default
                """
        )

        @OptionGroup var options: Options

        func run() async throws {
            let (configuration, bot, store) = try await options.load()
            if let failure = await WebhookCommand.call(configuration, bot, "deleteWebhook", ["drop_pending_updates": .bool(false)]) {
                print("deleteWebhook failed: \(failure)")
                throw ExitCode(1)
            }
            try await store.setInboundMode(bot: bot.name, .polling)
            try await store.close()
            print("webhook deleted for bot \(bot.name); the relay polls it again")
        }
    }

    /// Calls a Bot API method on the first endpoint; nil on success, else Telegram's description (never the token).
    static func call(
        _ configuration: RelayConfiguration, _ bot: RelayConfiguration.Bot, _ method: String, _ params: [String: JSONValue]
    ) async -> String? {
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        let response = await BotAPIClient(httpClient: http).call(
            endpoint: configuration.telegramEndpoints[0], token: bot.token, method: method,
            json: Array(CanonicalJSON.serialize(.object(params)).utf8), timeout: .seconds(30))
        try? await http.shutdown()
        switch response {
        case .answer(let status, let body):
            let answer = try? JSONParser.parse(body)
            if status == 200, answer?["ok"]?.boolValue == true { return nil }
            return answer?["description"]?.stringValue ?? "HTTP \(status)"
        case .failure(let failure):
            return "\(failure)"
        }
    }
}
