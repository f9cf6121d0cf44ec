import ArgumentParser

/// `tgrelay bench`: the outbound benchmarks. Each scenario starts everything it needs on loopback and
/// measures the relay from outside, as a separate process.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure the relay: accept speed and latency, drain speed, rate-limit fidelity, memory, outage recovery.",
        discussion: """
            Each scenario starts what it needs by itself on 127.0.0.1: the relay as a child process of \
            this same binary (`tgrelay serve` on a fresh temporary SQLite file) and, where messages are \
            delivered, the Bot API simulator inside the bench process. Nothing is sent to Telegram. \
            Every scenario prints a table of figures next to their targets; --record FILE also writes it \
            into FILE (replacing that scenario's previous section), with the command, machine and date.

            Use a release build: a debug build is several times slower and its figures mean nothing.

            Example:
              swift build -c release --product tgrelay
              .build/release/tgrelay bench accept --record docs/benchmarks.md
              .build/release/tgrelay bench dispatch
              .build/release/tgrelay bench rate
              .build/release/tgrelay bench memory
              .build/release/tgrelay bench recovery
              .build/release/tgrelay bench peers
              bash scripts/bench-postgres.sh      (bench postgres, with its PostgreSQL server and pgqueuer)
            """,
        subcommands: [BenchAccept.self, BenchDispatch.self, BenchRate.self, BenchMemory.self, BenchRecovery.self, BenchPeers.self, BenchPostgres.self]
    )
}
