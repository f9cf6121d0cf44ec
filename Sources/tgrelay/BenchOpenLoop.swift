import AsyncHTTPClient
import Foundation
import Histogram
import NIOCore

/// Open-loop load: requests leave on a fixed schedule whatever the server does, as independent
/// clients would send them. A closed-loop tool (wrk) slows down when the server does and so hides
/// queueing delay; here a slow answer cannot delay the next request.
///
/// Latency is measured from each request's *intended* departure, so a generator that fell behind
/// (or a server that stalled) shows up in the figures rather than being omitted; the service time
/// from the actual departure is recorded too.
struct OpenLoop {
    struct Result {
        var sent: Int
        var failed: Int
        var seconds: Double
        /// Nanoseconds from intended departure to the full answer.
        var latency: Histogram<UInt64>
        /// Nanoseconds from actual departure to the full answer.
        var service: Histogram<UInt64>
        /// How late the generator sent its requests at worst (its own scheduling error).
        var maxLag: Duration
    }

    let http: BenchHTTP
    let rate: Int
    let seconds: Int

    /// Sends `rate × seconds` requests built by `body(i)` to `url`; each must be answered `expect`.
    func run(url: String, expect: Int, body: @escaping @Sendable (Int) -> ByteBuffer) async -> Result {
        let total = rate * seconds
        let interval = Duration.nanoseconds(1_000_000_000 / Int64(rate))
        let clock = ContinuousClock()
        let start = clock.now + .milliseconds(50)
        var maxLag = Duration.zero
        let samples = await withTaskGroup(of: Sample.self, returning: [Sample].self) { group in
            var index = 0
            while index < total {
                let now = clock.now
                // Send everything that is due; then sleep until the next one. Sleeping per request
                // would make the timer's granularity the rate limit.
                while index < total, start + interval * index <= now {
                    let intended = start + interval * index
                    maxLag = max(maxLag, now - intended)
                    let i = index
                    group.addTask {
                        let departed = clock.now
                        let ok = (try? await http.send(url, method: .POST, body: body(i), timeout: .seconds(10)))?.status == expect
                        let answered = clock.now
                        return Sample(latency: answered - intended, service: answered - departed, ok: ok)
                    }
                    index += 1
                }
                if index < total {
                    try? await Task.sleep(until: start + interval * index, clock: clock)
                }
            }
            var samples: [Sample] = []
            samples.reserveCapacity(total)
            for await sample in group { samples.append(sample) }
            return samples
        }
        var latency = Histogram<UInt64>(highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)
        var service = latency
        var failed = 0
        for sample in samples {
            _ = latency.record(Self.nanoseconds(sample.latency))
            _ = service.record(Self.nanoseconds(sample.service))
            if !sample.ok { failed += 1 }
        }
        return Result(sent: total, failed: failed, seconds: (clock.now - start).seconds, latency: latency, service: service, maxLag: maxLag)
    }

    private struct Sample: Sendable {
        var latency: Duration
        var service: Duration
        var ok: Bool
    }

    private static func nanoseconds(_ duration: Duration) -> UInt64 {
        UInt64(max(0, min(duration.seconds * 1e9, 59e9)))
    }
}
