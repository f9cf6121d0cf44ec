import CoreMetrics
import Foundation
import Metrics
import Prometheus
import Synchronization
import TGRelayCore
import TGRelayStore

/// The relay's metrics, recorded through swift-metrics into a Prometheus registry of its own and served
/// at `/metrics`.
///
/// The registry belongs to this object rather than to the process-wide `MetricsSystem`, so several relays
/// in one process (tests, `tgrelay demo`) keep separate counts. Bots are labelled by their configured name,
/// endpoints by their base URL: neither ever contains a token.
public final class RelayMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    /// Per-minute deliveries and queue depth of the last hour, for the dashboard's charts.
    let history = DeliveryHistory()
    private let factory: PrometheusMetricsFactory
    /// Handles by name and labels: the registry validates names on every lookup, too slow for the accept path.
    private let counters = Mutex<[String: CoreMetrics.Counter]>([:])
    private let timers = Mutex<[String: CoreMetrics.Timer]>([:])

    static let sendDuration = "tgrelay_send_duration_seconds"

    public init() {
        registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        // Bot API round trips: a few ms on a local server up to the request timeout on a bad day.
        factory.durationHistogramBuckets[Self.sendDuration] = [
            .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250),
            .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5), .seconds(15),
        ]
        self.factory = factory
    }

    /// Messages newly stored (not idempotent repeats).
    func accepted(bot: String, count: Int = 1) {
        counter("tgrelay_messages_accepted_total", [("bot", bot)]).increment(by: count)
    }

    /// A message reached a final state.
    func finished(bot: String, status: MessageStatus) {
        guard status.isFinal else { return }
        counter("tgrelay_messages_\(status.rawValue)_total", [("bot", bot)]).increment()
        if status == .delivered { history.recordDelivery(bot: bot, at: Date()) }
    }

    /// One Bot API call for a message: its outcome class (`delivered`, `rate_limited`, `transient`, …, as in
    /// the ledger) and how long it took.
    func attempt(bot: String, outcome: String, duration: Duration) {
        counter("tgrelay_attempts_total", [("bot", bot), ("outcome", outcome)]).increment()
        if outcome == "rate_limited" { counter("tgrelay_rate_limited_total", [("bot", bot)]).increment() }
        timer(Self.sendDuration, [("bot", bot)]).record(duration: duration)
    }

    /// Sets the gauges that describe the present (queue, circuits, dead letters); called before each scrape.
    func record(counts: [BotCounts], circuits: [Dispatcher.CircuitReading], now: Date) {
        for count in counts {
            gauge("tgrelay_queue_depth", [("bot", count.bot)]).record(count.pending)
            let age = count.oldestPending.map { max(0, now.timeIntervalSince($0)) } ?? 0
            gauge("tgrelay_oldest_waiting_seconds", [("bot", count.bot)]).record(age)
            gauge("tgrelay_dead_letters", [("bot", count.bot)]).record(count.failed)
        }
        for circuit in circuits {
            gauge("tgrelay_circuit_state", [("bot", circuit.bot), ("endpoint", circuit.endpoint)]).record(circuit.state.metricValue)
        }
    }

    /// One gauge per bot and alert kind: how many alerts of that kind hold now (circuit alerts count per
    /// endpoint). Every kind is set for every bot, so a resolved alert reads 0 rather than its last value.
    func record(alerts: [Alert], bots: [String]) {
        for bot in bots {
            for kind in AlertKind.allCases {
                let active = alerts.filter { $0.key.bot == bot && $0.key.kind == kind }.count
                gauge("tgrelay_alerts_active", [("bot", bot), ("alert", kind.rawValue)]).record(active)
            }
        }
    }

    /// 1 for each bot whose lease this node holds (it sends and polls for the bot), else 0.
    func record(leasesHeld ownership: BotOwnership, bots: [String]) {
        for bot in bots {
            gauge("tgrelay_bot_lease_held", [("bot", bot)]).record(ownership.owns(bot) ? 1 : 0)
        }
    }

    /// Sets the inbox gauges per bot: updates kept, the consumer's lag (unconfirmed, or not yet pushed), the
    /// age of the oldest of those, and pushes given up.
    func record(inbox: [InboxCounts], now: Date) {
        for counts in inbox {
            let bot = [("bot", counts.bot)]
            gauge("tgrelay_inbox_stored", bot).record(counts.stored)
            gauge("tgrelay_inbox_unconfirmed", bot).record(counts.unconfirmed)
            let age = counts.oldestUnconfirmed.map { max(0, now.timeIntervalSince($0)) } ?? 0
            gauge("tgrelay_inbox_oldest_unconfirmed_seconds", bot).record(age)
            gauge("tgrelay_inbox_push_failed", bot).record(counts.pushFailed)
        }
    }

    /// The Prometheus text exposition of every metric.
    func exposition() -> [UInt8] {
        registry.emitToBuffer()
    }

    private func counter(_ name: String, _ labels: [(String, String)]) -> CoreMetrics.Counter {
        cached(counters, Self.key(name, labels)) { CoreMetrics.Counter(label: name, dimensions: labels, factory: factory) }
    }

    private func timer(_ name: String, _ labels: [(String, String)]) -> CoreMetrics.Timer {
        cached(timers, Self.key(name, labels)) { CoreMetrics.Timer(label: name, dimensions: labels, factory: factory) }
    }

    private func cached<Metric: Sendable>(_ cache: borrowing Mutex<[String: Metric]>, _ key: String, make: () -> Metric) -> Metric {
        cache.withLock { cache in
            if let metric = cache[key] { return metric }
            let metric = make()
            cache[key] = metric
            return metric
        }
    }

    /// Gauges are set once per scrape, so the registry's own lookup is cheap enough.
    private func gauge(_ name: String, _ labels: [(String, String)]) -> CoreMetrics.Gauge {
        CoreMetrics.Gauge(label: name, dimensions: labels, factory: factory)
    }

    private static func key(_ name: String, _ labels: [(String, String)]) -> String {
        labels.reduce(into: name) { $0 += "\u{1}\($1.0)=\($1.1)" }
    }
}

extension Dispatcher {
    /// A message newly stored (REST or proxy): counted and logged, the first of its state changes.
    nonisolated func noteAccepted(_ message: OutboundMessage) {
        metrics.accepted(bot: message.bot)
        logger.info("message accepted", metadata: ["id": "\(message.id)", "lane": "\(message.lane)", "method": "\(message.method)"])
    }

    /// The state of one endpoint's circuit for one bot.
    struct CircuitReading: Sendable {
        enum State: Sendable {
            case closed, halfOpen, open

            /// 0 closed (sending), 1 half-open (probing), 2 open (holding messages).
            var metricValue: Int {
                switch self {
                case .closed: 0
                case .halfOpen: 1
                case .open: 2
                }
            }
        }

        var bot: String
        var endpoint: String
        var state: State
        /// When the endpoint stopped answering, while the circuit is not closed.
        var outageSince: Date?
    }

    func circuitReadings() -> [CircuitReading] {
        bots.values.flatMap { runtime in
            runtime.endpoints.endpoints.map { endpoint in
                let (state, since): (CircuitReading.State, Date?) =
                    switch endpoint.breaker.state {
                    case .closed: (.closed, nil)
                    case .halfOpen(let since): (.halfOpen, since)
                    case .open(let since, _): (.open, since)
                    }
                return CircuitReading(bot: runtime.bot.name, endpoint: endpoint.baseURL, state: state, outageSince: since)
            }
        }
    }
}
