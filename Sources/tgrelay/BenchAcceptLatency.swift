import FakeTelegram
import Foundation

/// The relay's accept latency at fixed rates (open loop, from each request's intended departure),
/// one phase per rate against one relay that delivers to the simulator at Telegram's limits meanwhile.
enum AcceptLatency {
    struct Phase: Sendable {
        var rate: Int
        var p50: UInt64
        var p99: UInt64
        var failed: Int
        var sent: Int
    }

    static func measure(seconds: Int, rates: [Int], options: BenchCommonOptions) async throws -> [Phase] {
        let fake = FakeTelegram(configuration: FakeTelegramConfiguration(port: try ProcStats.freePort(), limits: .telegram))
        try await fake.start()
        return try await withBenchRun(scenario: "accept-latency", options: options, telegramAPI: fake.baseURL, stopping: fake) { relay, http in
            var phases: [Phase] = []
            for rate in rates {
                say("accept latency: POST /v1/messages at \(rate)/s for \(seconds) s (open loop)")
                let result = await OpenLoop(http: http, rate: rate, seconds: seconds).run(url: relay.baseURL + "/v1/messages", expect: 202) { i in
                    BenchBodies.single(index: i, label: "accept-\(rate)", chat: 6_000_000 + Int64(i % 10_000))
                }
                phases.append(
                    Phase(
                        rate: rate, p50: result.latency.valueAtPercentile(50), p99: result.latency.valueAtPercentile(99),
                        failed: result.failed, sent: result.sent))
            }
            return phases
        }
    }
}
