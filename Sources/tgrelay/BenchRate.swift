import ArgumentParser
import FakeTelegram
import Foundation

/// `tgrelay bench rate`: does the relay use Telegram's bot-wide limit fully without ever exceeding it?
struct BenchRate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rate",
        abstract: "Rate fidelity: 3,000 messages to 3,000 private chats at Telegram's real limits (~105 s).",
        discussion: """
            A broadcast is limited only by the bot-wide limit of about 30 messages per second. The relay \
            (child process, default limits) sends to the Bot API simulator running Telegram's limits \
            (FakeLimits.telegram: 30/s per bot, 3 per 2.5 s per private chat), which answers 429 to \
            anything above them. Messages are queued through the batch endpoint at once.

            Targets: achieved rate ≥ 97 % of 30 msg/s (counted from the first to the last delivery), \
            and zero 429s from the simulator.

            Example:
              .build/release/tgrelay bench rate --record docs/benchmarks.md
            """
    )

    @OptionGroup var common: BenchCommonOptions

    @Option(help: "Messages, each to its own private chat.")
    var messages = 3000

    @Option(help: "Give up when delivery takes longer than this many seconds.")
    var timeout = 400

    func validate() throws {
        guard (2...100_000).contains(messages) else { throw ValidationError("--messages must be 2...100000") }
    }

    func run() async throws {
        var report = BenchReport(scenario: "rate", title: "Rate: a broadcast at Telegram's limits")
        let fake = FakeTelegram(configuration: FakeTelegramConfiguration(port: try ProcStats.freePort(), limits: .telegram))
        try await fake.start()
        try await withBenchRun(scenario: "rate", options: common, telegramAPI: fake.baseURL, stopping: fake) { relay, http in
            try await measure(relay: relay, fake: fake, http: http, report: &report)
        }
        try common.finish(report)
    }

    private func measure(relay: RelayChild, fake: FakeTelegram, http: BenchHTTP, report: inout BenchReport) async throws {
        let clock = ContinuousClock()
        let started = clock.now
        say("queueing \(messages) messages to \(messages) private chats; expect about \(messages / 30 + 5) s")
        try await http.loadQueue(relay: relay.baseURL, total: messages, concurrency: 1, label: "rate") { 9_000_000 + Int64($0) }
        var lastReport = clock.now
        while fake.stats().messagesDelivered < messages {
            try relay.ensureRunning()
            guard clock.now - started < .seconds(timeout) else {
                throw BenchError("only \(fake.stats().messagesDelivered) of \(messages) delivered after \(timeout) s")
            }
            if clock.now - lastReport >= .seconds(10) {
                lastReport = clock.now
                let stats = fake.stats()
                say("  delivered \(stats.messagesDelivered), 429s \(stats.tooManyRequestsTotal)")
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        let total = (clock.now - started).seconds
        try await Task.sleep(for: .seconds(1))
        let stats = fake.stats()
        let final = try await http.relayStatus(relay.baseURL)
        let times = fake.messages().map(\.receivedAt).sorted()
        let span = times.last!.timeIntervalSince(times.first!)
        // n deliveries span n−1 intervals.
        let rate = Double(times.count - 1) / span
        let worstSecond = Self.busiestSecond(times)

        report.add("messages / private chats", "\(Fmt.int(Double(messages))) / \(Fmt.int(Double(messages)))")
        report.add("achieved rate (first to last delivery)", "\(Fmt.fixed(rate, 2)) msg/s", target: "≥ 29.1 msg/s (97 % of 30)", met: rate >= 29.1)
        report.add("achieved ÷ 30 msg/s", Fmt.percent(rate / 30))
        report.add("most deliveries in any 1 s window (arrival times)", "\(worstSecond)", target: "≤ 30", met: worstSecond <= 30)
        report.add("429s answered by the simulator", "\(stats.tooManyRequestsTotal)", target: "0", met: stats.tooManyRequestsTotal == 0)
        report.add("first accept → last delivery", "\(Fmt.fixed(total)) s")
        report.add(
            "relay status after: delivered / dead letters", "\(final.delivered) / \(final.failed)",
            target: "\(messages) / 0", met: final.delivered == messages && final.failed == 0)
        report.notes = [
            """
            The relay (release build, fresh SQLite file, default limits: 30 msg/s per bot) sends to the simulator in the \
            bench process, which enforces FakeLimits.telegram on arrival times. The rate counts n−1 intervals between \
            the first and the last of n deliveries as the simulator received them.
            """
        ]
    }

    /// The largest number of deliveries inside any sliding one-second window.
    static func busiestSecond(_ sorted: [Date]) -> Int {
        var worst = 0
        var low = 0
        for high in sorted.indices {
            while sorted[high].timeIntervalSince(sorted[low]) >= 1 { low += 1 }
            worst = max(worst, high - low + 1)
        }
        return worst
    }
}
