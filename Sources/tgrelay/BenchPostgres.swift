import ArgumentParser
import FakeTelegram
import Foundation

/// `tgrelay bench postgres`: the store on PostgreSQL next to SQLite, and a well-regarded Postgres job queue
/// (pgqueuer) on the same server in the same run as the reference.
struct BenchPostgres: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "postgres",
        abstract: "PostgreSQL next to SQLite: enqueue + deliver throughput, and pgqueuer on the same server.",
        discussion: """
            For each store — a fresh SQLite file, then the empty PostgreSQL database given by --database — \
            the relay queues a backlog through /v1/messages/batch while the Bot API is unreachable and then \
            drains it with no rate limits (as `bench dispatch`). Then pgqueuer (scripts/bench-pgqueuer.py, \
            pgqueuer's public API only) enqueues and consumes the same number of jobs in the database given \
            by --pgqueuer-dsn on the same server, twice: with an entrypoint that does nothing (the queue \
            alone), and with one that delivers each job as one sendMessage to the same simulator (the same \
            work as tgrelay's, without ordering per chat, rate limits or a ledger).

            Figure: enqueue + deliver per second (backlog ÷ (load time + first to last delivery)) against \
            pgqueuer's enqueue + consume jobs per second. Target: tgrelay on PostgreSQL ≥ pgqueuer doing the \
            same work (the delivering entrypoint). The no-op figure is reported beside it as the queue's own \
            cost: nothing that delivers reaches it while the simulator shares the machine's cores.

            scripts/bench-postgres.sh does all of it on a fresh machine: starts a throwaway PostgreSQL \
            server, creates both databases, installs pgqueuer into .build-bench/pgq-venv and runs this.

            Example:
              bash scripts/bench-postgres.sh --record docs/benchmarks.md
            """
    )

    @OptionGroup var common: BenchCommonOptions

    @Option(help: "Messages (and pgqueuer jobs).")
    var messages = 20_000

    @Option(help: "Lanes (distinct chats) the messages are spread over, round robin.")
    var lanes = 2_000

    @Option(help: ArgumentHelp("An empty PostgreSQL database for pgqueuer, on the same server.", valueName: "url"))
    var pgqueuerDSN: String

    @Option(help: ArgumentHelp("A Python with pgqueuer and asyncpg installed.", valueName: "path"))
    var python: String

    @Option(help: "Give up on a drain that takes longer than this many seconds.")
    var timeout = 600

    func validate() throws {
        guard common.database?.hasPrefix("postgres") == true else { throw ValidationError("--database postgres://… is required") }
        guard (1...2_000_000).contains(messages), (1...messages).contains(lanes) else {
            throw ValidationError("--messages must be 1...2000000 and --lanes 1...messages")
        }
    }

    func run() async throws {
        var report = BenchReport(scenario: "postgres", title: "PostgreSQL next to SQLite, and pgqueuer")
        var sqliteOptions = common
        sqliteOptions.database = nil
        say("== SQLite ==")
        let sqlite = try await DispatchDrain.measure(options: sqliteOptions, messages: messages, lanes: lanes, timeout: timeout)
        say("== PostgreSQL ==")
        let postgres = try await DispatchDrain.measure(options: common, messages: messages, lanes: lanes, timeout: timeout)
        say("== pgqueuer, entrypoint does nothing ==")
        let pgqueuer = try await runPGQueuer(delivering: false)
        say("== pgqueuer, entrypoint delivers each job to the simulator ==")
        let delivering = try await runPGQueuer(delivering: true)

        report.add("messages / lanes", "\(Fmt.int(Double(messages))) / \(Fmt.int(Double(lanes)))")
        for (name, drain) in [("SQLite", sqlite), ("PostgreSQL", postgres)] {
            report.add("\(name): accept through /v1/messages/batch", "\(Fmt.int(Double(messages) / drain.loadSeconds)) msg/s")
            report.add("\(name): dispatch, first to last delivery", "\(Fmt.int(drain.rate)) msg/s")
            report.add("\(name): enqueue + deliver", "\(Fmt.int(drain.enqueueAndDeliverRate)) msg/s")
            report.add("\(name): relay CPU per delivered message", String(format: "%.0f µs", drain.relayCPU / Double(messages) * 1e6))
            report.add(
                "\(name): relay status after: queued / delivered / dead letters",
                "\(drain.final.queued) / \(drain.final.delivered) / \(drain.final.failed)", target: "0 / \(messages) / 0",
                met: drain.complete)
        }
        report.add("pgqueuer, no-op entrypoint: enqueue / consume / enqueue + consume", pgqueuer.summary)
        report.add("pgqueuer, delivering entrypoint: enqueue / consume / enqueue + consume", delivering.summary)
        report.add(
            "tgrelay on PostgreSQL vs pgqueuer delivering the same messages, enqueue + deliver",
            "\(Fmt.int(postgres.enqueueAndDeliverRate)) vs \(Fmt.int(delivering.total)) per s",
            target: "≥ pgqueuer", met: postgres.enqueueAndDeliverRate >= delivering.total)
        report.add(
            "tgrelay on PostgreSQL ÷ pgqueuer's no-op queue (delivers nothing)",
            String(format: "%.0f %%", postgres.enqueueAndDeliverRate / pgqueuer.total * 100))
        report.notes = [
            """
            Run by `bash scripts/bench-postgres.sh` (throwaway PostgreSQL server, pgqueuer from PyPI). Release \
            build; one relay process at a time (fresh SQLite file with synchronous=FULL, then the empty \
            PostgreSQL database), TGRELAY_RATE_LIMITS=off, the simulator in the bench process with its limits off. \
            A delivered message costs the relay an accept (batch insert), a lane-head read, a durable `sending` mark, \
            the HTTP request and a durable attempt record with its hash-chained ledger row. A pgqueuer job costs an \
            insert and a dequeue/acknowledge; with the no-op entrypoint that is all (the queue's own cost, without \
            delivery), with the delivering one its entrypoint also sends the job as one sendMessage to a simulator \
            like tgrelay's (limits off) over keep-alive connections — the same work as tgrelay's without ordering \
            per chat, a durable `sending` mark, rate limits or a ledger. Enqueue + deliver leaves out the wait \
            from opening the gate to the first delivery (the relay's circuit probing the simulated outage's end). \
            PostgreSQL runs with fsync on, on the same machine, sharing its two cores with the relay or pgqueuer \
            and the bench.
            """
        ]
        try common.finish(report)
    }

    private struct PGQueuerResult {
        var enqueue: Double
        var consume: Double
        var total: Double
        var summary: String { "\(Fmt.int(enqueue)) / \(Fmt.int(consume)) / \(Fmt.int(total)) jobs/s" }
    }

    /// Runs scripts/bench-pgqueuer.py and reads its one result line; `delivering` starts a simulator (limits
    /// off, as for the relay) for its entrypoint and checks that it received every job.
    private func runPGQueuer(delivering: Bool) async throws -> PGQueuerResult {
        var arguments = ["scripts/bench-pgqueuer.py", "--dsn", pgqueuerDSN, "--jobs", "\(messages)"]
        var simulator: FakeTelegram?
        if delivering {
            let port = try ProcStats.freePort()
            let fake = FakeTelegram(configuration: FakeTelegramConfiguration(port: port, limits: .off))
            try await fake.start()
            simulator = fake
            arguments += ["--deliver-to", "http://127.0.0.1:\(port)/bot100200300:bench-token", "--lanes", "\(lanes)",
                "--first-chat", "\(DispatchDrain.firstChat)"]
        }
        let run: Result<(status: Int32, output: String), any Error>
        do {
            run = .success(try await ProcStats.runOffPool(python, arguments, errors: .standardError))
        } catch {
            run = .failure(error)
        }
        let delivered = simulator?.stats().messagesDelivered
        await simulator?.stop()
        let (status, output) = try run.get()
        say(output.trimmingCharacters(in: .whitespacesAndNewlines))
        guard status == 0 else { throw BenchError("pgqueuer's run failed (exit \(status))") }
        if let delivered, delivered != messages {
            throw BenchError("pgqueuer's entrypoint delivered \(delivered) of \(messages) jobs")
        }
        // "pgqueuer N jobs (no-op entrypoint): enqueue 36,645 jobs/s (…), consume 6,433 jobs/s (…), enqueue+consume 5,472 jobs/s (…)"
        let figures = output.split(separator: " ").enumerated().compactMap { index, word -> Double? in
            guard word == "jobs/s", index > 0 else { return nil }
            return Double(output.split(separator: " ")[index - 1].replacingOccurrences(of: ",", with: ""))
        }
        guard figures.count == 3 else { throw BenchError("unexpected pgqueuer output: \(output)") }
        return PGQueuerResult(enqueue: figures[0], consume: figures[1], total: figures[2])
    }
}
