import ArgumentParser
import Foundation

/// `tgrelay status`: the relay's `/v1/status` as a table.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show each bot's queue, deliveries, dead letters and Telegram connectivity.",
        discussion: """
            Asks a running relay (GET /v1/status) and prints one row per bot:
              QUEUED    messages not yet final; OLDEST  how long the oldest of them has waited
              DELIVERED, DEAD (dead letters: failed, see `tgrelay dlq list`), EXPIRED
              RATE/S    deliveries per second over the last minute
              TELEGRAM  ok, or down since <time> while the relay holds messages for an outage
            --json prints the relay's answer unchanged.

            Example:
              tgrelay status
              TGRELAY_URL=http://relay.internal:8080 TGRELAY_API_KEY=... tgrelay status
            """
    )

    @OptionGroup var relay: RelayAddress

    @Flag(help: "Print the raw JSON answer.")
    var json = false

    func run() async throws {
        let status = try await relay.withAPI { try await $0.call(.GET, "/v1/status") }
        if json {
            let data = try JSONSerialization.data(withJSONObject: status, options: [.prettyPrinted, .sortedKeys])
            print(String(decoding: data, as: UTF8.self))
            return
        }
        let bots = status["bots"] as? [[String: Any]] ?? []
        let rows = bots.map { bot -> [String] in
            let endpoints = bot["endpoints"] as? [[String: Any]] ?? []
            let down = endpoints.filter { ($0["circuit"] as? String ?? "closed") != "closed" }
            var telegram = down.isEmpty ? "ok" : "down since \(down.compactMap { $0["outage_since"] as? String }.min() ?? "?")"
            if !down.isEmpty, down.count < endpoints.count { telegram = "\(down.count)/\(endpoints.count) endpoints down" }
            if bot["token_refused"] != nil { telegram = "token refused (401)" }
            return [
                bot["bot"] as? String ?? "?", "\(bot["queue_depth"] as? Int ?? 0)",
                Self.age(bot["oldest_waiting_seconds"] as? Double), "\(bot["delivered"] as? Int ?? 0)",
                "\(bot["dead_letters"] as? Int ?? 0)", "\(bot["expired"] as? Int ?? 0)",
                String(format: "%.1f", bot["delivery_rate_per_second"] as? Double ?? 0), telegram,
            ]
        }
        print(TextTable.render(["BOT", "QUEUED", "OLDEST", "DELIVERED", "DEAD", "EXPIRED", "RATE/S", "TELEGRAM"], rows))
    }

    /// "-", "12s", "4m10s", "3h05m".
    static func age(_ seconds: Double?) -> String {
        guard let seconds else { return "-" }
        let total = Int(seconds)
        if total < 60 { return "\(total)s" }
        if total < 3600 { return "\(total / 60)m\(String(format: "%02d", total % 60))s" }
        return "\(total / 3600)h\(String(format: "%02d", total % 3600 / 60))m"
    }
}
