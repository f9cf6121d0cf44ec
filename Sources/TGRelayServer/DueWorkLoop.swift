import Foundation
import Logging
import ServiceLifecycle
import TGRelayCore
import TGRelayStore

/// Drives a queue kept in the store (status callbacks, pushes of inbound updates): polls it for due items and
/// works on up to `maxConcurrent` at once, never on one item twice at a time. The store is the queue, so a
/// crash at any point only means an item is worked on again (at least once). Polling the partial index of
/// pending rows costs next to nothing and needs no wake-up wiring into every path that enqueues.
actor DueWorkLoop<Item: Sendable, Key: Hashable & Sendable> {
    let name: String
    let maxConcurrent: Int
    let pollInterval: Duration
    let logger: Logger
    let due: @Sendable (Int) async throws -> [Item]
    let key: @Sendable (Item) -> Key
    let work: @Sendable (Item) async -> Void
    private var inFlight: Set<Key> = []
    /// Items finished while a read of the queue was under way: that read may predate their record and
    /// still list them, and working on them again would be a duplicate without any crash.
    private var finishedDuringRead: Set<Key>? = nil
    private var stopping = false

    init(
        name: String, maxConcurrent: Int, pollInterval: Duration = .milliseconds(200), logger: Logger,
        due: @escaping @Sendable (Int) async throws -> [Item], key: @escaping @Sendable (Item) -> Key,
        work: @escaping @Sendable (Item) async -> Void
    ) {
        self.name = name
        self.maxConcurrent = maxConcurrent
        self.pollInterval = pollInterval
        self.logger = logger
        self.due = due
        self.key = key
        self.work = work
    }

    /// Runs until graceful shutdown; items in flight finish first.
    func run() async {
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                while !stopping, !Task.isCancelled {
                    await startDue(group: &group)
                    try? await Task.sleep(for: pollInterval)
                }
            }
        } onGracefulShutdown: {
            Task { await self.stop() }
        }
        logger.info("\(name) stopped")
    }

    private func stop() {
        stopping = true
    }

    private func startDue(group: inout DiscardingTaskGroup) async {
        let free = maxConcurrent - inFlight.count
        guard free > 0 else { return }
        let items: [Item]
        finishedDuringRead = []
        defer { finishedDuringRead = nil }
        do {
            items = try await due(maxConcurrent * 2)
        } catch {
            // The store may be briefly unavailable (disk full, locked): the queue waits, the relay keeps running.
            logger.warning("\(name): cannot read what is due", metadata: ["error": "\(error)"])
            try? await Task.sleep(for: .seconds(1))
            return
        }
        let stale = finishedDuringRead ?? []
        for item in items.filter({ !inFlight.contains(key($0)) && !stale.contains(key($0)) }).prefix(free) {
            inFlight.insert(key(item))
            group.addTask {
                await self.work(item)
                await self.finished(self.key(item))
            }
        }
    }

    private func finished(_ key: Key) {
        inFlight.remove(key)
        finishedDuringRead?.insert(key)
    }
}

extension CallbackPolicy {
    /// What to record after one POST: delivered, retried later, or given up at the horizon.
    func outcome(error: String?, tries: Int, owedSince: Date, now: Date, random: inout some RandomNumberGenerator) -> CallbackOutcome {
        guard let error else { return .delivered }
        switch afterFailure(tries: tries, owedSince: owedSince, now: now, random: &random) {
        case .retry(let next): return .retry(at: next, error: error)
        case .giveUp: return .gaveUp(error: error)
        }
    }
}
