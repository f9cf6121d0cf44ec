import ArgumentParser
import FakeTelegram
import Foundation

/// `tgrelay bench recovery`: how close to the physical limit a backlog built during an outage drains.
struct BenchRecovery: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recovery",
        abstract: "Outage recovery: a 50,000-message backlog built during a Bot API outage, drained at 1,000/s (~1 min).",
        discussion: """
            The simulator runs Telegram's limits (FakeLimits.telegram) and answers every request with a \
            502 HTML page (an `outage` fault) from the start. The relay (child process, one paid-broadcast \
            bot at 1,000 msg/s, every message with allow_paid_broadcast) opens its circuit while 50,000 \
            messages are queued through the batch endpoint over 10,000 private chats. Then the fault is \
            removed — the recovery — and the backlog drains.

            Figure: time from the recovery to the last delivery, divided by the physical limit \
            (backlog ÷ allowed rate = 50 s). It includes the circuit's probe delay. Target: ≤ 1.05. Also \
            checked: nothing lost or dead-lettered, no 429 and no limit violation at the simulator.

            Example:
              .build/release/tgrelay bench recovery --record docs/benchmarks.md
            """
    )

    @OptionGroup var common: BenchCommonOptions

    @Option(help: "Backlog size.")
    var messages = 50_000

    @Option(help: "Private chats the backlog is spread over, round robin.")
    var lanes = 10_000

    @Option(help: "The paid-broadcast bot's rate (messages per second, at most 1000).")
    var rate = 1000

    @Option(help: "Give up when the drain takes longer than this many seconds.")
    var timeout = 600

    func validate() throws {
        guard (1...2_000_000).contains(messages), (1...messages).contains(lanes), (1...1000).contains(rate) else {
            throw ValidationError("--messages must be 1...2000000, --lanes 1...messages and --rate 1...1000")
        }
    }

    func run() async throws {
        var report = BenchReport(scenario: "recovery", title: "Recovery: draining an outage's backlog")
        let fake = FakeTelegram(configuration: FakeTelegramConfiguration(port: try ProcStats.freePort(), limits: .telegram))
        try await fake.start()
        let outage = try fake.addFault(FakeFault(kind: .outage))
        let config = FileManager.default.temporaryDirectory.appendingPathComponent("tgrelay-bench-recovery-\(UUID().uuidString.prefix(8)).json")
        let bot: [String: Any] = ["token": "100200300:bench-token", "paid_broadcast": true, "per_second": rate]
        try JSONSerialization.data(withJSONObject: ["bots": ["default"], "bot": ["default": bot]]).write(to: config)
        defer { try? FileManager.default.removeItem(at: config) }
        try await withBenchRun(
            scenario: "recovery", options: common, telegramAPI: fake.baseURL, extra: ["TGRELAY_CONFIG": config.path], stopping: fake
        ) { relay, http in
            try await measure(relay: relay, fake: fake, outage: outage, http: http, report: &report)
        }
        try common.finish(report)
    }

    private func measure(relay: RelayChild, fake: FakeTelegram, outage: Int, http: BenchHTTP, report: inout BenchReport) async throws {
        let lanes = self.lanes
        say("outage: the simulator answers 502 to everything; queueing \(messages) messages over \(lanes) chats")
        let loadSeconds = try await http.loadQueue(relay: relay.baseURL, total: messages, label: "recovery", paid: true, progress: true) {
            7_000_000 + Int64($0 % lanes)
        }
        let queued = try await http.relayStatus(relay.baseURL)
        guard queued.queued == messages, fake.stats().messagesDelivered == 0 else {
            throw BenchError("expected \(messages) queued and none delivered; the relay reports \(queued.queued) queued, \(queued.delivered) delivered")
        }
        // Let the circuit settle into its steady probing, as in a real outage of more than a few seconds.
        try await Task.sleep(for: .seconds(10))

        say("recovery: the fault is removed")
        let recovered = Date()
        let cpuBefore = relay.cpuSeconds
        _ = fake.removeFault(id: outage)
        let clock = ContinuousClock()
        let gate = clock.now
        var lastReport = gate
        while fake.stats().messagesDelivered < messages {
            try relay.ensureRunning()
            guard clock.now - gate < .seconds(timeout) else {
                throw BenchError("only \(fake.stats().messagesDelivered) of \(messages) delivered after \(timeout) s")
            }
            if clock.now - lastReport >= .seconds(5) {
                lastReport = clock.now
                say("  delivered \(fake.stats().messagesDelivered)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        let cpu = relay.cpuSeconds - cpuBefore
        let drainSeconds = (clock.now - gate).seconds
        try await Task.sleep(for: .seconds(1))
        let final = try await http.relayStatus(relay.baseURL)
        let stats = fake.stats()
        let times = fake.messages().map(\.receivedAt).sorted()
        guard let first = times.first, let last = times.last else { throw BenchError("nothing was delivered") }
        let physical = Double(messages) / Double(rate)
        let recoveryToLast = last.timeIntervalSince(recovered)
        let ratio = recoveryToLast / physical
        let drainRate = Double(times.count - 1) / last.timeIntervalSince(first)

        report.add("backlog / private chats / allowed rate", "\(Fmt.int(Double(messages))) / \(Fmt.int(Double(lanes))) / \(rate) msg/s (paid broadcast)")
        report.add("queueing the backlog during the outage", "\(Fmt.fixed(loadSeconds)) s")
        report.add("physical limit (backlog ÷ allowed rate)", "\(Fmt.fixed(physical)) s")
        report.add("recovery → first delivery (probe delay)", "\(Fmt.fixed(first.timeIntervalSince(recovered), 2)) s")
        report.add("recovery → last delivery", "\(Fmt.fixed(recoveryToLast)) s")
        report.add("ratio to the physical limit", Fmt.fixed(ratio, 3), target: "≤ 1.05", met: ratio <= 1.05)
        report.add("drain rate (first to last delivery)", "\(Fmt.int(drainRate)) msg/s (\(Fmt.percent(drainRate / Double(rate))) of \(rate))")
        // Well below one core: the drain waits for the limiter, not for the relay's CPU.
        report.add("relay CPU use during the drain", String(format: "%.2f cores", cpu / drainSeconds))
        report.add(
            "simulator: 429s / limit violations / duplicate payloads", "\(stats.tooManyRequestsTotal) / \(stats.limitViolations) / \(stats.duplicatePayloads)",
            target: "0 / 0 / 0", met: stats.tooManyRequestsTotal == 0 && stats.limitViolations == 0 && stats.duplicatePayloads == 0)
        report.add(
            "relay status after: queued / delivered / dead letters", "\(final.queued) / \(final.delivered) / \(final.failed)",
            target: "0 / \(messages) / 0", met: final.queued == 0 && final.delivered == messages && final.failed == 0)
        report.notes = [
            """
            One relay process (release build, fresh SQLite file, synchronous=FULL, one paid-broadcast bot at \(rate) msg/s, \
            log level \(common.relayLogLevel) to a file) and the simulator with Telegram's limits in the bench process share \
            the machine's cores. The allowed rate is the paid-broadcast limit so that the 50 s physical limit keeps the run \
            to about a minute; the private chats' own limit (1 message/s) is never the bottleneck with 5 messages per chat.
            """
        ]
    }
}
