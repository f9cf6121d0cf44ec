import Foundation
import Hummingbird
import NIOCore
import TGRelayStore

/// `GET /metrics`: Prometheus text format. Counters are kept as things happen; queue, dead-letter, inbox and
/// circuit gauges (and the active alerts) are read from the store and the dispatcher at scrape time, so they are never stale.
struct MetricsRoutes {
    let store: any MessageStore
    let dispatcher: Dispatcher
    let alerts: AlertMonitor

    func register(on router: RouterGroup<RelayRequestContext>) {
        router.get("metrics") { _, _ in
            let counts = try await storeCall { try await store.counts() }
            let inbox = try await storeCall { try await store.inboxCounts() }
            let circuits = await dispatcher.circuitReadings()
            let now = Date()
            dispatcher.metrics.record(counts: counts, circuits: circuits, now: now)
            dispatcher.metrics.record(inbox: inbox, now: now)
            dispatcher.metrics.record(alerts: await alerts.activeAlerts, bots: alerts.botNames)
            dispatcher.metrics.record(leasesHeld: dispatcher.ownership, bots: alerts.botNames)
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: dispatcher.metrics.exposition())))
        }
    }
}
