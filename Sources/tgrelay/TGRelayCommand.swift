import ArgumentParser

@main
struct TGRelayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tgrelay",
        abstract: "A durable, rate-exact relay in front of the Telegram Bot API.",
        discussion: """
            Start with `tgrelay demo` to watch it deliver through a 429 burst and an outage, then run
            `tgrelay serve` in front of your bot. Every command has --help with an example.

            Examples:
              tgrelay demo
              TGRELAY_BOT_TOKEN=123456:ABC tgrelay serve
              tgrelay send --chat 42 --text "hello" --wait
            """,
        subcommands: [
            ServeCommand.self, MigrateCommand.self, SendCommand.self, StatusCommand.self, DeadLetterCommand.self,
            LedgerCommand.self, WebhookCommand.self, CalibrateCommand.self, DemoCommand.self, FakeTelegramCommand.self,
            BenchCommand.self,
        ]
    )
}
