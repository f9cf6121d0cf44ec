import ArgumentParser
import FakeTelegram
import Foundation

/// `tgrelay bench peers`: the same workloads sent by tgrelay and by python-telegram-bot with
/// AIORateLimiter (what most bots use instead), each against its own simulator with Telegram's limits.
struct BenchPeers: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "peers",
        abstract: "Side by side with python-telegram-bot 22.x + AIORateLimiter: broadcast, crash, outage, overhead (~11 min).",
        discussion: """
            Workload (--scale 1): 3,000 messages to 3,000 private chats and 600 to 3 groups (200 each), spread \
            evenly, every text numbered. Each sender gets all of it at once and delivers it to its own Bot API \
            simulator running FakeLimits.telegram (30/s per bot, 20 per 60 s per group, 3 per 2.5 s per private \
            chat, sliding windows; 429 with retry_after above them). Scenarios, each for both senders:

              broadcast  the workload as is;
              crash      the sender is killed with SIGKILL 30 % into the time the workload needs at 30 msg/s
                         (36 s at --scale 1), then restarted;
              outage     the simulator answers 502 for --outage-seconds from 50 % of that time (60 s).

            Then the relay's accept latency (open loop) at 1,000 and 5,000 msg/s. Delivered, lost, duplicated \
            and out-of-order messages are read from what the simulator received.

            tgrelay runs as `tgrelay serve` (child process of this binary, fresh SQLite file, default settings); \
            the workload is queued through POST /v1/messages/batch. The peer is scripts/bench/ptb_peer.py, run \
            from a virtual environment that the bench creates with python3 -m venv and fills from PyPI \
            (python-telegram-bot[rate-limiter]==22.*) on first use. All runs go at the same time (they are \
            bound by Telegram's limits, not by CPU); --sequential runs them one after the other (~60 min).

            Example:
              swift build -c release --product tgrelay --scratch-path .build-release
              .build-release/release/tgrelay bench peers --record docs/benchmarks.md
              .build-release/release/tgrelay bench peers --scale 0.1 --scenarios broadcast --without-peer
            """
    )

    @OptionGroup var common: BenchCommonOptions

    @Option(help: "Workload size relative to the issue's 3,000 + 600 messages (0.1 is a quick run).")
    var scale = 1.0

    @Option(parsing: .upToNextOption, help: "Scenarios to run: broadcast, crash, outage.")
    var scenarios: [PeerScenario] = PeerScenario.allCases

    @Flag(help: "Run tgrelay only (no Python needed).")
    var withoutPeer = false

    @Option(help: "AIORateLimiter max_retries of the peer (python-telegram-bot's default is 0).")
    var peerMaxRetries = 0

    @Option(help: "The peer's virtual environment (created when missing).")
    var venv = ".build-bench/ptb-venv"

    @Option(help: "The peer's script.")
    var peerScript = "scripts/bench/ptb_peer.py"

    @Option(help: "Length of the simulated Telegram outage in seconds.")
    var outageSeconds = 60

    @Option(help: "Seconds of each accept-latency phase (1,000 and 5,000 msg/s); 0 skips them.")
    var acceptSeconds = 10

    @Flag(help: "Run the scenarios one after the other instead of all at once.")
    var sequential = false

    func validate() throws {
        guard scale > 0, scale <= 10 else { throw ValidationError("--scale must be in (0, 10]") }
        guard !scenarios.isEmpty else { throw ValidationError("--scenarios needs at least one scenario") }
        guard (0...10).contains(peerMaxRetries) else { throw ValidationError("--peer-max-retries must be 0...10") }
        guard (1...3600).contains(outageSeconds) else { throw ValidationError("--outage-seconds must be 1...3600") }
        guard (0...600).contains(acceptSeconds) else { throw ValidationError("--accept-seconds must be 0...600") }
    }

    func run() async throws {
        var report = BenchReport(scenario: "peers", title: "Side by side: tgrelay and python-telegram-bot")
        let workload = PeerWorkload(scale: scale)
        var peer: PeerSetup? = nil
        if !withoutPeer {
            guard FileManager.default.fileExists(atPath: peerScript) else {
                throw BenchError("the peer script \(peerScript) is missing; run from the package folder or pass --peer-script")
            }
            let (python, version) = try PeerEnvironment.prepare(at: venv)
            peer = PeerSetup(python: python, version: version, script: peerScript, maxRetries: peerMaxRetries)
            say("peer: python-telegram-bot \(version) with AIORateLimiter(max_retries=\(peerMaxRetries)) in \(venv)")
        }
        let runs = scenarios.flatMap { scenario in
            [PeerRun(scenario: scenario, sender: .tgrelay)] + (peer == nil ? [] : [PeerRun(scenario: scenario, sender: .peer)])
        }
        say("workload: \(workload.total) messages (\(workload.privates) private chats, \(workload.groups) groups × \(workload.perGroup)); "
            + "physical minimum \(Fmt.fixed(workload.physicalMinimum())) s; \(runs.count) runs\(sequential ? " one after the other" : " at once")")
        let context = PeerRunContext(workload: workload, peer: peer, outageSeconds: outageSeconds, options: common)
        var results: [PeerRunResult] = []
        if sequential {
            for run in runs { results.append(try await context.execute(run)) }
        } else {
            results = try await withThrowingTaskGroup(of: PeerRunResult.self) { group in
                for run in runs { group.addTask { try await context.execute(run) } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
        }
        var accept: [AcceptLatency.Phase] = []
        if acceptSeconds > 0 {
            accept = try await AcceptLatency.measure(seconds: acceptSeconds, rates: [1000, 5000], options: common)
        }
        let summary = PeerSummary(workload: workload, peer: peer, results: results, accept: accept, outageSeconds: outageSeconds)
        summary.fill(&report)
        say("")
        say(summary.comparisonTable)
        if let recordPath = common.recordPath {
            // The chart sits beside the Markdown file, which links it by name.
            let chartPath = URL(fileURLWithPath: recordPath).deletingLastPathComponent().appendingPathComponent("benchmarks-peers.svg").path
            try summary.chart.write(toFile: chartPath, atomically: true, encoding: .utf8)
            say("chart written to \(chartPath)")
        }
        try common.finish(report)
    }
}

enum PeerScenario: String, CaseIterable, ExpressibleByArgument, Sendable {
    case broadcast, crash, outage
}

/// The peer's installed environment.
struct PeerSetup: Sendable {
    var python: String
    var version: String
    var script: String
    var maxRetries: Int
}

struct PeerRun: Sendable {
    enum Sender: String, Sendable { case tgrelay, peer }
    var scenario: PeerScenario
    var sender: Sender
    var name: String { "\(scenario.rawValue)/\(sender.rawValue)" }
}

/// What one run measured.
struct PeerRunResult: Sendable {
    var run: PeerRun
    var total: Int
    var deliveries: PeerDeliveries
    var tooManyRequests: Int
    var cpuSeconds: Double
    var peakRSS: Int
    /// Messages delivered when the sender was killed (crash scenario), nil if it had ended before.
    var killedAt: Int?
    /// When the simulated outage ended (outage scenario).
    var outageEnded: Date?
    var timedOut: Bool
    /// Sends the peer's script saw fail, by exception type.
    var failures: [String: Int]

    var lost: Int { total - deliveries.distinct }

    /// Seconds from the end of the outage to the last delivery to a private chat: the backlog the
    /// outage built up, drained at the bot-wide rate (the groups' 20 per minute set the end of the run);
    /// nil when nothing arrived after the outage.
    var drainAfterRecovery: Double? { secondsAfterRecovery(deliveries.lastPrivate) }

    /// Seconds from the end of the outage to the last delivery of all.
    var doneAfterRecovery: Double? { secondsAfterRecovery(deliveries.last) }

    private func secondsAfterRecovery(_ date: Date?) -> Double? {
        guard let outageEnded, let date, date > outageEnded else { return nil }
        return date.timeIntervalSince(outageEnded)
    }
}

/// Everything a run needs; shared by the concurrent runs.
struct PeerRunContext: Sendable {
    var workload: PeerWorkload
    var peer: PeerSetup?
    var outageSeconds: Int
    var options: BenchCommonOptions

    /// One scenario for one sender, against a simulator of its own.
    func execute(_ run: PeerRun) async throws -> PeerRunResult {
        let fake = FakeTelegram(configuration: FakeTelegramConfiguration(port: try ProcStats.freePort(), limits: .telegram))
        try await fake.start()
        let result = await capture { try await execute(run, fake: fake) }
        await fake.stop()
        return try result.get()
    }

    private func execute(_ run: PeerRun, fake: FakeTelegram) async throws -> PeerRunResult {
        switch run.sender {
        case .tgrelay:
            let http = BenchHTTP.make()
            let result = await capture {
                try await withRelayRun(scenario: "peers-\(run.scenario.rawValue)", options: options, http: http, telegramAPI: fake.baseURL) {
                    try await drive(run, fake: fake, sender: RelaySender(relay: $0, http: http))
                }
            }
            await http.shutdown()
            return try result.get()
        case .peer:
            guard let peer else { throw BenchError("the peer's environment was not prepared") }
            let directory = try RelayChild.temporaryDirectory(scenario: "peers-\(run.scenario.rawValue)-ptb")
            let sender = PTBSender(python: peer.python, script: peer.script, botAPI: fake.baseURL, directory: directory, maxRetries: peer.maxRetries)
            let result = await capture { try await drive(run, fake: fake, sender: sender) }
            if case .failure = result {
                say("[\(run.name)] the peer's files are in \(directory.path)")
            } else if !options.keepTemp {
                try? FileManager.default.removeItem(at: directory)
            }
            return try result.get()
        }
    }

    /// Hands the workload over, injects the scenario's fault, and waits until everything arrived, the
    /// peer ended, or the time is up.
    private func drive(_ run: PeerRun, fake: FakeTelegram, sender: some PeerSender) async throws -> PeerRunResult {
        let total = workload.total
        let clock = ContinuousClock()
        let started = clock.now
        let timeout = Duration.seconds(workload.minimum(groupSpacing: 1) * 1.5 + Double(outageSeconds) + 180)
        try await sender.start(workload)
        let handedOver = clock.now
        // Faults come at a fixed time, the same for every sender: 30 % (crash) and 50 % (outage) of the
        // time the workload takes at the bot-wide 30 msg/s.
        let sendTime = Double(total) / 30
        var killedAt: Int? = nil
        var outageEnded: Date? = nil
        var lastProgress = clock.now
        var timedOut = false
        while true {
            let stats = fake.stats()
            let distinct = stats.messagesDelivered - stats.duplicatePayloads
            if distinct >= total { break }
            let elapsed = (clock.now - handedOver).seconds
            if run.scenario == .crash, killedAt == nil, !sender.hasEnded, elapsed >= 0.3 * sendTime {
                killedAt = distinct
                say("[\(run.name)] kill -9 at \(distinct) delivered; restarting")
                try await sender.crashAndRestart()
            }
            if run.scenario == .outage, outageEnded == nil, elapsed >= 0.5 * sendTime {
                var outage = FakeFault(kind: .outage)
                outage.duration = Double(outageSeconds)
                try fake.addFault(outage)
                outageEnded = Date().addingTimeInterval(Double(outageSeconds))
                say("[\(run.name)] simulator outage for \(outageSeconds) s at \(distinct) delivered")
            }
            // The peer's first process may end before the crash point; a restarted one ends at once.
            if sender.hasEnded { break }
            try sender.ensureAlive()
            if clock.now - started > timeout {
                timedOut = true
                say("[\(run.name)] gave up after \(Int(timeout.seconds)) s")
                break
            }
            if clock.now - lastProgress >= .seconds(30) {
                lastProgress = clock.now
                say("[\(run.name)] delivered \(distinct) of \(total), 429s \(stats.tooManyRequestsTotal)")
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        // A late duplicate would arrive now.
        try await Task.sleep(for: .seconds(1))
        let usage = await sender.finish()
        let deliveries = PeerDeliveries(fake.messages())
        say("[\(run.name)] done: \(deliveries.distinct) of \(total) delivered in \(Fmt.fixed(deliveries.span)) s")
        return PeerRunResult(
            run: run, total: total, deliveries: deliveries, tooManyRequests: fake.stats().tooManyRequestsTotal,
            cpuSeconds: usage.cpuSeconds, peakRSS: usage.peakRSS, killedAt: killedAt, outageEnded: outageEnded,
            timedOut: timedOut, failures: (sender as? PTBSender)?.failures ?? [:])
    }
}

/// The outcome of `body`, so that cleanup can run whichever way it ended.
func capture<T>(_ body: () async throws -> T) async -> Result<T, any Error> {
    do { return .success(try await body()) } catch { return .failure(error) }
}
