import Foundation
import TGRelayCore

/// Deliveries per second over the last minute, in one-second buckets (constant memory at any rate).
struct DeliveryRate {
    private var buckets = [Int](repeating: 0, count: 60)
    private var bucketSecond = [Int](repeating: -1, count: 60)

    mutating func record(at date: Date) {
        let second = Int(date.timeIntervalSince1970)
        let index = second % 60
        if bucketSecond[index] != second {
            bucketSecond[index] = second
            buckets[index] = 0
        }
        buckets[index] += 1
    }

    func perSecond(now: Date) -> Double {
        let second = Int(now.timeIntervalSince1970)
        let total = zip(buckets, bucketSecond).reduce(0) { sum, bucket in
            bucket.1 > second - 60 && bucket.1 <= second ? sum + bucket.0 : sum
        }
        return Double(total) / 60
    }
}

extension Dispatcher {
    /// What `/v1/status` shows of a bot beyond the store's counts.
    struct BotState: Sendable {
        var json: [String: any Sendable]
    }

    func snapshot() -> [String: BotState] {
        let now = Date()
        return bots.mapValues { runtime in
            let endpoints: [[String: any Sendable]] = runtime.endpoints.endpoints.map { endpoint in
                var json: [String: any Sendable] = ["url": endpoint.baseURL]
                switch endpoint.breaker.state {
                case .closed: json["circuit"] = "closed"
                case .open(let since, let probe):
                    json["circuit"] = "open"
                    json["outage_since"] = UTCTimestamp.string(since)
                    json["next_probe_at"] = UTCTimestamp.string(probe)
                case .halfOpen(let since):
                    json["circuit"] = "half_open"
                    json["outage_since"] = UTCTimestamp.string(since)
                }
                return json
            }
            var json: [String: any Sendable] = [
                "endpoints": endpoints, "delivery_rate_per_second": runtime.deliveries.perSecond(now: now),
                "ready_lanes": scheduler.readyCount(bot: runtime.bot.name),
            ]
            if let pause = runtime.limiter.botPause(now: now) { json["paused_until"] = UTCTimestamp.string(pause) }
            if let unauthorized = runtime.unauthorized { json["token_refused"] = unauthorized }
            return BotState(json: json)
        }
    }
}

extension Dispatcher {
    /// What the alert rules need of a bot: circuits not closed (with their outage start) and a refused token.
    struct AlertInputs: Sendable {
        var openCircuits: [String: Date]
        var tokenRefused: String?
    }

    func alertInputs() -> [String: AlertInputs] {
        bots.mapValues { runtime in
            var open: [String: Date] = [:]
            for endpoint in runtime.endpoints.endpoints {
                switch endpoint.breaker.state {
                case .closed: break
                case .open(let since, _), .halfOpen(let since): open[endpoint.baseURL] = since
                }
            }
            return AlertInputs(openCircuits: open, tokenRefused: runtime.unauthorized)
        }
    }
}
