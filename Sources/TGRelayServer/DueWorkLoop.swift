import Foundation
import Logging
import ServiceLifecycle
import TGRelayCore
import TGRelayStore

/// Drives a queue kept in the store (status callbacks, pushes of inbound updates): polls it for due items and
/// works on up to `maxConcurrent` at once, never on one item twice at a time. The store is the queue, so a
/// crash at any point only means an item is worked on again (at least once). Polling the partial index of
/// pending rows costs next to nothing and needs no wake-up wiring into every path that enqueues. A finished
/// item starts the next read at once, so a queue held to a few at a time (one chat's pushes, a small
/// `max_connections`) moves at the receiver's speed, not one round per poll interval.
actor DueWorkLoop<Item: Sendable, Key: Hashable & Sendable> {
    let name: String
    let maxConcurrent: Int
    let pollInterval: Duration
    let logger: Logger
    let due: @Sendable (Int) async throws -> [Item]
    let key: @Sendable (Item) -> Key
    /// Returns false when it left the item as it was (still due; e.g. at a concurrency limit of its own).
    let work: @Sendable (Item) async -> Bool
    private var inFlight: Set<Key> = []
    /// Items finished while a read of the queue was under way: that read may predate their record and
    /// still list them, and working on them again would be a duplicate without any crash.
    private var finishedDuringRead: Set<Key>? = nil
    private var stopping = false
    private var sleeper: CheckedContinuation<Void, Never>?
    private var wakePending = false

    init(
        name: String, maxConcurrent: Int, pollInterval: Duration = .milliseconds(200), logger: Logger,
        due: @escaping @Sendable (Int) async throws -> [Item], key: @escaping @Sendable (Item) -> Key,
        work: @escaping @Sendable (Item) async -> Bool
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
                    await nap()
                }
            }
        } onGracefulShutdown: {
            Task { await self.stop() }
        }
        logger.info("\(name) stopped")
    }

    private func stop() {
        stopping = true
        wake()
    }

    /// Waits for the poll interval, or less when an item finished.
    private func nap() async {
        if wakePending {
            wakePending = false
            return
        }
        let timer = Task { [pollInterval] in
            try? await Task.sleep(for: pollInterval)
            if !Task.isCancelled { await self.wake() }
        }
        await withCheckedContinuation { sleeper = $0 }
        timer.cancel()
    }

    private func wake() {
        if let sleeper {
            self.sleeper = nil
            sleeper.resume()
        } else {
            wakePending = true
        }
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
                let worked = await self.work(item)
                await self.finished(self.key(item), worked: worked)
            }
        }
    }

    private func finished(_ key: Key, worked: Bool) {
        inFlight.remove(key)
        finishedDuringRead?.insert(key)
        if worked { wake() }
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
