import Foundation
import ServiceLifecycle
import Synchronization
import TGRelayStore

/// The last hour per bot, one sample a minute, for the dashboard's charts: deliveries in the minute and the
/// largest queue depth seen in it. A fixed ring of 60 slots per bot (constant memory at any rate); gone on
/// restart, as an in-memory view should be.
final class DeliveryHistory: Sendable {
    struct Minute: Sendable, Equatable {
        /// Minutes since 1970, so a slot from an earlier hour is recognised as stale.
        var minute: Int = -1
        var delivered = 0
        var queueDepth = 0
    }

    static let minutes = 60
    private let slots = Mutex<[String: [Minute]]>([:])

    func recordDelivery(bot: String, at date: Date) {
        update(bot: bot, at: date) { $0.delivered += 1 }
    }

    func recordQueueDepth(bot: String, depth: Int, at date: Date) {
        update(bot: bot, at: date) { $0.queueDepth = max($0.queueDepth, depth) }
    }

    /// The last 60 minutes up to `now`, oldest first; minutes without samples are zero.
    func lastHour(bot: String, now: Date) -> [Minute] {
        let current = Self.minute(of: now)
        let ring = slots.withLock { $0[bot] } ?? []
        return (current - Self.minutes + 1...current).map { minute in
            let slot = ring.isEmpty ? Minute() : ring[minute % Self.minutes]
            return slot.minute == minute ? slot : Minute(minute: minute)
        }
    }

    private func update(bot: String, at date: Date, _ change: (inout Minute) -> Void) {
        let minute = Self.minute(of: date)
        slots.withLock { slots in
            var ring = slots[bot] ?? Array(repeating: Minute(), count: Self.minutes)
            let index = minute % Self.minutes
            if ring[index].minute != minute { ring[index] = Minute(minute: minute) }
            change(&ring[index])
            slots[bot] = ring
        }
    }

    private static func minute(of date: Date) -> Int {
        Int((date.timeIntervalSince1970 / 60).rounded(.down))
    }
}

/// Samples every bot's queue depth into the history every few seconds (the store's counts are one cheap
/// read), so the queue chart shows backlogs that build and drain between page loads.
struct QueueSampler: Service {
    let store: any MessageStore
    let history: DeliveryHistory
    let interval: Duration = .seconds(5)

    func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                if let counts = try? await store.counts() {
                    let now = Date()
                    for count in counts { history.recordQueueDepth(bot: count.bot, depth: count.pending, at: now) }
                }
                try await Task.sleep(for: interval)
            }
        }
    }
}
