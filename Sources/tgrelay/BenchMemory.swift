import ArgumentParser
import Foundation

/// `tgrelay bench memory`: the relay's resident memory with a large queue, while loading and after a restart.
struct BenchMemory: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "memory",
        abstract: "Resident memory of the relay with 1,000,000 queued messages (target ≤ 150 MB).",
        discussion: """
            Starts the relay (child process, fresh SQLite file) pointed at a loopback port where nothing \
            listens, so nothing can be delivered, and queues the messages through the batch endpoint. \
            Reads VmRSS (resident now) and VmHWM (peak) from /proc/<pid>/status after loading, then \
            restarts the relay on the same database and reads them again once it has picked up the \
            backlog: a restart is when a relay must load its queue's lanes.

            By default every message goes to its own chat (a broadcast to a million users), the case \
            that gives the relay the most lanes to track; --lanes spreads them over fewer chats.

            Target: ≤ 150 MB (VmHWM, after loading and after the restart).

            Example:
              .build/release/tgrelay bench memory --record docs/benchmarks.md
              .build/release/tgrelay bench memory --lanes 10000
            """
    )

    @OptionGroup var common: BenchCommonOptions

    @Option(help: "Messages to queue.")
    var messages = 1_000_000

    @Option(help: "Distinct chats (lanes); default: one per message.")
    var lanes: Int?

    @Option(help: "Seconds to wait after loading (and after the restart) before reading memory.")
    var settle = 5

    func validate() throws {
        guard (1...5_000_000).contains(messages) else { throw ValidationError("--messages must be 1...5000000") }
        if let lanes, !(1...messages).contains(lanes) { throw ValidationError("--lanes must be 1...messages") }
        guard (0...600).contains(settle) else { throw ValidationError("--settle must be 0...600") }
    }

    func run() async throws {
        let lanes = self.lanes ?? messages
        let scenario = self.lanes == nil ? "memory" : "memory-\(lanes)-lanes"
        var report = BenchReport(scenario: scenario, title: "Memory: \(Fmt.int(Double(messages))) queued messages in \(Fmt.int(Double(lanes))) lanes")
        // Nothing listens there: every send is refused, the circuit opens, the queue only grows.
        let closedPort = try ProcStats.freePort()
        try await withBenchRun(scenario: "memory", options: common, telegramAPI: "http://127.0.0.1:\(closedPort)") { relay, http in
            try await measure(relay: relay, lanes: lanes, http: http, report: &report)
        }
        try common.finish(report)
    }

    private func measure(relay: RelayChild, lanes: Int, http: BenchHTTP, report: inout BenchReport) async throws {
        let idle = relay.memory
        say("queueing \(messages) messages over \(lanes) lanes")
        let loadSeconds = try await http.loadQueue(relay: relay.baseURL, total: messages, label: "memory", progress: true) {
            10_000_000 + Int64($0 % lanes)
        }
        try await Task.sleep(for: .seconds(settle))
        let loaded = relay.memory
        let queued = try await http.relayStatus(relay.baseURL)
        guard queued.queued == messages else { throw BenchError("expected \(messages) queued, the relay reports \(queued.queued)") }

        say("restarting the relay on the same database")
        await relay.stop()
        let restartClock = ContinuousClock.now
        try await relay.start()
        let startSeconds = (ContinuousClock.now - restartClock).seconds
        try await Task.sleep(for: .seconds(settle))
        let restarted = relay.memory
        let afterRestart = try await http.relayStatus(relay.baseURL)

        let limit = 150 * 1_000_000
        report.add("relay RSS at start, empty queue", Fmt.mib(idle.rss))
        report.add("loading through /v1/messages/batch", "\(Fmt.fixed(loadSeconds)) s (\(Fmt.int(Double(messages) / loadSeconds)) msg/s)")
        report.add("RSS after loading (VmRSS)", Fmt.mib(loaded.rss))
        report.add("peak RSS while loading (VmHWM)", Fmt.mib(loaded.peak), target: "≤ 150 MB (143.1 MiB)", met: loaded.peak <= limit)
        report.add("RSS after a restart with the queue (VmRSS)", Fmt.mib(restarted.rss))
        report.add("peak RSS of the restarted relay (VmHWM)", Fmt.mib(restarted.peak), target: "≤ 150 MB (143.1 MiB)", met: restarted.peak <= limit)
        report.add("restart until /healthz answers", "\(Fmt.fixed(startSeconds)) s")
        report.add("queue depth before / after the restart", "\(Fmt.int(Double(queued.queued))) / \(Fmt.int(Double(afterRestart.queued)))")
        report.add("SQLite files on disk", Fmt.mib(relay.databaseBytes))
        report.notes = [
            """
            Release build, fresh SQLite file; the relay's Bot API URL is a closed loopback port, so its circuit opens \
            after the first refused sends and everything stays queued. Memory is read \(settle) s after loading and \
            \(settle) s after the restart (SIGTERM, then a new process on the same file).
            """
        ]
    }
}
