import ArgumentParser
import FakeTelegram
import Foundation

/// `tgrelay bench dispatch`: how fast the dispatcher drains a large backlog when nothing limits it.
struct BenchDispatch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dispatch",
        abstract: "Drain speed: 100,000 queued messages over 10,000 lanes, no rate limits anywhere.",
        discussion: """
            Measures the dispatcher alone: delivered messages per second and the relay's CPU seconds \
            per message (utime+stime of the relay process from /proc).

            How: the relay (child process, fresh SQLite file, TGRELAY_RATE_LIMITS=off) is pointed at a \
            port where nothing listens yet, like a Bot API outage: its circuit opens and the messages \
            loaded through the batch endpoint wait. Then the simulator starts on that port with its \
            limits off (FakeLimits.off), the relay's probe finds it, and the backlog drains. The rate is \
            counted from the simulator's first to its last delivery, so the probe delay is not in it.

            Target: ≥ 5,000 delivered messages per second (2-core machine).

            Example:
              .build/release/tgrelay bench dispatch --record docs/benchmarks.md
            """
    )

    @OptionGroup var common: BenchCommonOptions

    @Option(help: "Messages to queue and deliver.")
    var messages = 100_000

    @Option(help: "Lanes (distinct chats) the messages are spread over, round robin.")
    var lanes = 10_000

    @Option(help: "Give up when the drain takes longer than this many seconds.")
    var timeout = 600

    func validate() throws {
        guard (1...2_000_000).contains(messages), (1...messages).contains(lanes) else {
            throw ValidationError("--messages must be 1...2000000 and --lanes 1...messages")
        }
    }

    func run() async throws {
        var report = BenchReport(scenario: "dispatch", title: "Dispatch: draining a backlog without limits")
        let simulatorPort = try ProcStats.freePort()
        let fake = FakeTelegram(configuration: FakeTelegramConfiguration(port: simulatorPort, limits: .off))
        try await withBenchRun(
            scenario: "dispatch", options: common, telegramAPI: "http://127.0.0.1:\(simulatorPort)",
            extra: ["TGRELAY_RATE_LIMITS": "off"], stopping: fake
        ) { relay, http in
            try await measure(relay: relay, fake: fake, http: http, report: &report)
        }
        try common.finish(report)
    }

    private func measure(relay: RelayChild, fake: FakeTelegram, http: BenchHTTP, report: inout BenchReport) async throws {
        let lanes = self.lanes
        say("loading \(messages) messages over \(lanes) lanes while the Bot API is unreachable")
        let loadSeconds = try await http.loadQueue(relay: relay.baseURL, total: messages, label: "dispatch", progress: true) {
            8_000_000 + Int64($0 % lanes)
        }
        let queued = try await http.relayStatus(relay.baseURL)
        guard queued.queued == messages else {
            throw BenchError("expected \(messages) queued messages, the relay reports \(queued.queued) (delivered \(queued.delivered))")
        }

        say("opening the gate: simulator (limits off) starts on the relay's Bot API port")
        let cpuBefore = relay.cpuSeconds
        // The simulator runs in this process: its CPU tells whether the two cores were saturated.
        let benchCPUBefore = ProcStats.cpuSeconds(pid: getpid()) ?? .nan
        let clock = ContinuousClock()
        let gate = clock.now
        try await fake.start()
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
        let gateToDone = (clock.now - gate).seconds
        let cpu = relay.cpuSeconds - cpuBefore
        let benchCPU = (ProcStats.cpuSeconds(pid: getpid()) ?? .nan) - benchCPUBefore
        // Let the relay record the last answers before reading its counts.
        try await Task.sleep(for: .seconds(1))
        let final = try await http.relayStatus(relay.baseURL)
        let stats = fake.stats()
        let delivered = fake.messages()
        let first = delivered.map(\.receivedAt).min() ?? Date()
        let last = delivered.map(\.receivedAt).max() ?? Date()
        let drain = last.timeIntervalSince(first)
        let rate = Double(delivered.count - 1) / max(drain, 1e-9)

        report.add("messages / lanes", "\(Fmt.int(Double(messages))) / \(Fmt.int(Double(lanes)))")
        report.add("loading through /v1/messages/batch", "\(Fmt.fixed(loadSeconds)) s (\(Fmt.int(Double(messages) / loadSeconds)) msg/s)")
        report.add("delivered msg/s (first to last delivery)", "\(Fmt.int(rate)) msg/s", target: "≥ 5,000 msg/s", met: rate >= 5000)
        report.add("gate opened → all delivered (includes the circuit's probe delay)", "\(Fmt.fixed(gateToDone)) s")
        report.add("relay CPU per delivered message", String(format: "%.0f µs (%.1f CPU s in all)", cpu / Double(messages) * 1e6, cpu))
        report.add("relay CPU use during the drain", String(format: "%.2f cores", cpu / gateToDone))
        report.add("bench process (simulator, polling) CPU use during the drain", String(format: "%.2f cores", benchCPU / gateToDone))
        report.add("simulator: requests / 429s / duplicate payloads", "\(stats.totalRequests) / \(stats.tooManyRequestsTotal) / \(stats.duplicatePayloads)")
        report.add(
            "relay status after: queued / delivered / dead letters", "\(final.queued) / \(final.delivered) / \(final.failed)",
            target: "0 / \(messages) / 0", met: final.queued == 0 && final.delivered == messages && final.failed == 0)
        report.notes = [
            """
            One relay process (release build, fresh SQLite file, synchronous=FULL, TGRELAY_RATE_LIMITS=off, log level \
            \(common.relayLogLevel) to a file) and the simulator in the bench process (FakeLimits.off) share the machine's \
            cores. Each delivery costs the relay a lane-head read, a durable `sending` mark, the HTTP request to the \
            simulator and a durable attempt record with its ledger row.
            """
        ]
    }
}
