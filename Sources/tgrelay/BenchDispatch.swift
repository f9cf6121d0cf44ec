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
        let drain = try await DispatchDrain.measure(options: common, messages: messages, lanes: lanes, timeout: timeout)
        report.add("messages / lanes", "\(Fmt.int(Double(messages))) / \(Fmt.int(Double(lanes)))")
        report.add("loading through /v1/messages/batch", "\(Fmt.fixed(drain.loadSeconds)) s (\(Fmt.int(Double(messages) / drain.loadSeconds)) msg/s)")
        report.add("delivered msg/s (first to last delivery)", "\(Fmt.int(drain.rate)) msg/s", target: "≥ 5,000 msg/s", met: drain.rate >= 5000)
        report.add("gate opened → all delivered (includes the circuit's probe delay)", "\(Fmt.fixed(drain.gateToDone)) s")
        report.add("relay CPU per delivered message", String(format: "%.0f µs (%.1f CPU s in all)", drain.relayCPU / Double(messages) * 1e6, drain.relayCPU))
        report.add("relay CPU use during the drain", String(format: "%.2f cores", drain.relayCPU / drain.gateToDone))
        report.add("bench process (simulator, polling) CPU use during the drain", String(format: "%.2f cores", drain.benchCPU / drain.gateToDone))
        report.add("simulator: requests / 429s / duplicate payloads", drain.simulator)
        report.add(
            "relay status after: queued / delivered / dead letters", "\(drain.final.queued) / \(drain.final.delivered) / \(drain.final.failed)",
            target: "0 / \(messages) / 0", met: drain.complete)
        report.notes = [
            """
            One relay process (release build, fresh SQLite file, synchronous=FULL, TGRELAY_RATE_LIMITS=off, log level \
            \(common.relayLogLevel) to a file) and the simulator in the bench process (FakeLimits.off) share the machine's \
            cores. Each delivery costs the relay a lane-head read, a durable `sending` mark, the HTTP request to the \
            simulator and a durable attempt record with its ledger row.
            """
        ]
        try common.finish(report)
    }
}

/// One backlog queued while the Bot API is unreachable, then drained without limits: what `bench dispatch`
/// and `bench postgres` measure.
struct DispatchDrain {
    /// Messages i go to chat `firstChat + i mod lanes` (the pgqueuer script's delivering jobs too).
    static let firstChat: Int64 = 8_000_000

    var loadSeconds: Double
    var gateToDone: Double
    /// Seconds from the simulator's first to its last delivery: the drain without the circuit's probe delay.
    var firstToLast: Double
    /// Deliveries the simulator received.
    var deliveries: Int
    var relayCPU: Double
    var benchCPU: Double
    var simulator: String
    var final: RelayStatus
    var messages: Int
    /// Delivered messages per second, first to last delivery.
    var rate: Double { Double(deliveries - 1) / firstToLast }
    var complete: Bool { final.queued == 0 && final.delivered == messages && final.failed == 0 }
    /// Accepted and delivered messages per second: the backlog over the load and the drain together. The
    /// wait between opening the gate and the first delivery is the bench's simulated outage ending (the
    /// circuit's probe interval), not work, so it is left out.
    var enqueueAndDeliverRate: Double { Double(messages) / (loadSeconds + firstToLast) }

    static func measure(options: BenchCommonOptions, messages: Int, lanes: Int, timeout: Int) async throws -> DispatchDrain {
        let simulatorPort = try ProcStats.freePort()
        let fake = FakeTelegram(configuration: FakeTelegramConfiguration(port: simulatorPort, limits: .off))
        return try await withBenchRun(
            scenario: "dispatch", options: options, telegramAPI: "http://127.0.0.1:\(simulatorPort)",
            extra: ["TGRELAY_RATE_LIMITS": "off"], stopping: fake
        ) { relay, http in
            try await measure(relay: relay, fake: fake, http: http, messages: messages, lanes: lanes, timeout: timeout)
        }
    }

    private static func measure(
        relay: RelayChild, fake: FakeTelegram, http: BenchHTTP, messages: Int, lanes: Int, timeout: Int
    ) async throws -> DispatchDrain {
        say("loading \(messages) messages over \(lanes) lanes while the Bot API is unreachable")
        let loadSeconds = try await http.loadQueue(relay: relay.baseURL, total: messages, label: "dispatch", progress: true) {
            firstChat + Int64($0 % lanes)
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
        return DispatchDrain(
            loadSeconds: loadSeconds, gateToDone: gateToDone, firstToLast: max(last.timeIntervalSince(first), 1e-9),
            deliveries: delivered.count, relayCPU: cpu, benchCPU: benchCPU,
            simulator: "\(stats.totalRequests) / \(stats.tooManyRequestsTotal) / \(stats.duplicatePayloads)", final: final,
            messages: messages)
    }
}
