import ArgumentParser
import FakeTelegram
import Foundation
import Histogram
import NIOCore

/// `tgrelay bench accept`: how fast the relay durably accepts messages, and how quickly it answers.
struct BenchAccept: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "accept",
        abstract: "Accept throughput and latency: single POSTs vs GET /healthz, a fixed 2,000 msg/s, and batches.",
        discussion: """
            Starts a relay (child process, fresh SQLite file) in front of the Bot API simulator at \
            Telegram's real limits, so the dispatcher delivers at 30 msg/s in the background as it would \
            in production, then runs four phases against it, one after the other:

              1. GET /healthz with wrk: what the HTTP stack alone can answer (the reference).
              2. POST /v1/messages with wrk, 64 connections: accepted messages per second and latency.
                 Each 202 means the message was committed to SQLite with fsync (grouped across requests).
              3. POST /v1/messages at a fixed rate (open loop, latency from each request's intended
                 send time, recorded in an HDR histogram).
              4. POST /v1/messages/batch with 1000 messages per request: messages per second.

            Targets: accept ≥ 40 % of healthz throughput; p99 ≤ 10 ms at 2,000 msg/s; batch ≥ 50,000 msg/s.
            Needs wrk (`apt-get install -y wrk`).

            Example:
              swift build -c release --product tgrelay
              .build/release/tgrelay bench accept --record docs/benchmarks.md
            """
    )

    @OptionGroup var common: BenchCommonOptions

    @Option(help: "Seconds of each wrk phase and of the fixed-rate phase.")
    var seconds = 20

    @Option(help: "Concurrent connections of the wrk phases.")
    var connections = 64

    @Option(help: "Messages per second of the fixed-rate phase.")
    var rate = 2000

    @Option(help: "Distinct chats (lanes) the single-message phases write to.")
    var chats = 10_000

    @Option(help: "Batches of 1000 messages sent in the batch phase.")
    var batches = 200

    @Option(help: "Batch requests in flight at once.")
    var batchConcurrency = 4

    func validate() throws {
        guard (1...600).contains(seconds) else { throw ValidationError("--seconds must be 1...600") }
        guard (1...1024).contains(connections) else { throw ValidationError("--connections must be 1...1024") }
        guard (1...50_000).contains(rate) else { throw ValidationError("--rate must be 1...50000") }
        guard chats > 0, (1...5000).contains(batches), (1...64).contains(batchConcurrency) else {
            throw ValidationError("--chats, --batches (≤5000) and --batch-concurrency (≤64) must be positive")
        }
    }

    func run() async throws {
        _ = try Wrk.executable()
        var report = BenchReport(scenario: "accept", title: "Accept: throughput and latency")
        let fake = FakeTelegram(configuration: FakeTelegramConfiguration(port: try ProcStats.freePort(), limits: .telegram))
        try await fake.start()
        try await withBenchRun(scenario: "accept", options: common, telegramAPI: fake.baseURL, stopping: fake) { relay, http in
            try await measure(relay: relay, http: http, report: &report)
        }
        try common.finish(report)
    }

    private func measure(relay: RelayChild, http: BenchHTTP, report: inout BenchReport) async throws {
        say("1/4 GET /healthz, wrk \(connections) connections, \(seconds) s")
        let health = try await Wrk.run(
            url: relay.baseURL + "/healthz", script: Wrk.script(postMessages: false, chats: chats), connections: connections,
            seconds: seconds, directory: relay.directory)
        say("2/4 POST /v1/messages, wrk \(connections) connections, \(seconds) s")
        let cpuBefore = relay.cpuSeconds
        let accept = try await Wrk.run(
            url: relay.baseURL, script: Wrk.script(postMessages: true, chats: chats), connections: connections, seconds: seconds,
            directory: relay.directory)
        let acceptCPU = (relay.cpuSeconds - cpuBefore) / Double(max(accept.requests, 1))

        say("3/4 POST /v1/messages at \(rate)/s for \(seconds) s (open loop)")
        let chats = self.chats
        let fixed = await OpenLoop(http: http, rate: rate, seconds: seconds).run(url: relay.baseURL + "/v1/messages", expect: 202) { i in
            BenchBodies.single(index: i, label: "fixed-rate", chat: 6_000_000 + Int64(i % chats))
        }

        say("4/4 POST /v1/messages/batch, \(batches) × 1000 messages, \(batchConcurrency) at a time")
        let batch = try await batchPhase(relay: relay, http: http)
        let status = try await http.relayStatus(relay.baseURL)

        let ratio = accept.perSecond / health.perSecond
        report.add("GET /healthz, wrk -c\(connections)", "\(Fmt.int(health.perSecond)) req/s (p99 \(Fmt.ms(health.p99)))")
        report.add("POST /v1/messages, wrk -c\(connections)", "\(Fmt.int(accept.perSecond)) msg/s")
        report.add("accept ÷ healthz throughput (same run)", Fmt.percent(ratio), target: "≥ 40 %", met: ratio >= 0.40)
        report.add("POST latency p50 / p99 / p99.9 (closed loop)", "\(Fmt.ms(accept.p50)) / \(Fmt.ms(accept.p99)) / \(Fmt.ms(accept.p999))")
        report.add("relay CPU per accepted message (closed loop)", String(format: "%.0f µs", acceptCPU * 1e6))
        report.add("errors (wrk phases)", "\(health.errors + accept.errors)", target: "0", met: health.errors + accept.errors == 0)
        let p99 = fixed.latency.valueAtPercentile(99)
        report.add(
            "fixed \(Fmt.int(Double(rate))) msg/s: latency p50 / p99 / p99.9",
            "\(Fmt.ms(fixed.latency.valueAtPercentile(50))) / \(Fmt.ms(p99)) / \(Fmt.ms(fixed.latency.valueAtPercentile(99.9)))")
        report.add("fixed \(Fmt.int(Double(rate))) msg/s: p99", Fmt.ms(p99), target: "≤ 10 ms", met: p99 <= 10_000_000)
        report.add(
            "fixed rate: service time p50 / p99 / max",
            "\(Fmt.ms(fixed.service.valueAtPercentile(50))) / \(Fmt.ms(fixed.service.valueAtPercentile(99))) / \(Fmt.ms(fixed.service.max))")
        report.add("fixed rate: requests / failed / generator max lag", "\(fixed.sent) / \(fixed.failed) / \(Fmt.ms(UInt64(fixed.maxLag.seconds * 1e9)))")
        report.add("POST /v1/messages/batch (1000 per request)", "\(Fmt.int(batch.perSecond)) msg/s", target: "≥ 50,000 msg/s", met: batch.perSecond >= 50_000)
        report.add("batch request latency p50 / p99", "\(Fmt.ms(batch.latency.valueAtPercentile(50))) / \(Fmt.ms(batch.latency.valueAtPercentile(99)))")
        report.add("messages queued at the end / delivered meanwhile", "\(Fmt.int(Double(status.queued))) / \(Fmt.int(Double(status.delivered)))")
        report.notes = [
            """
            Phases run in this order against one relay process (release build, TGRELAY_DATABASE on a fresh temporary \
            SQLite file, synchronous=FULL) while its dispatcher delivers to the in-process simulator at Telegram's \
            limits (30 msg/s). wrk (2 threads) and the load generator share the machine's cores with the relay. \
            Single-message bodies go to \(Fmt.int(Double(chats))) chats; the batch phase sends \(batches) × 1000 messages, \
            \(batchConcurrency) requests in flight, bodies built before the clock starts.
            """,
            """
            The fixed-rate phase is open loop: requests leave on schedule whatever the relay does, and latency counts \
            from the intended departure (no coordinated omission); "service time" counts from the actual departure.
            """,
        ]
    }

    private func batchPhase(relay: RelayChild, http: BenchHTTP) async throws -> (perSecond: Double, latency: Histogram<UInt64>) {
        // Bodies are built first so the bench's own JSON building is not timed.
        let bodies = (0..<batches).map { b in
            BenchBodies.batch(b * 1000..<(b + 1) * 1000, label: "batch", chat: { 7_000_000 + Int64($0 % 100_000) })
        }
        let url = relay.baseURL + "/v1/messages/batch"
        let clock = ContinuousClock()
        let started = clock.now
        var latency = Histogram<UInt64>(highestTrackableValue: 120_000_000_000, numberOfSignificantValueDigits: .three)
        try await withThrowingTaskGroup(of: Duration.self) { group in
            var next = 0
            func addNext() {
                guard next < bodies.count else { return }
                let body = bodies[next]
                next += 1
                group.addTask {
                    let sent = clock.now
                    let (status, answer) = try await http.send(url, method: .POST, body: body, timeout: .seconds(120))
                    guard status == 202 else { throw BenchError("batch answered \(status): \(String(buffer: answer).prefix(300))") }
                    return clock.now - sent
                }
            }
            for _ in 0..<batchConcurrency { addNext() }
            while let took = try await group.next() {
                _ = latency.record(UInt64(took.seconds * 1e9))
                addNext()
            }
        }
        let elapsed = (clock.now - started).seconds
        return (Double(batches * 1000) / elapsed, latency)
    }
}
