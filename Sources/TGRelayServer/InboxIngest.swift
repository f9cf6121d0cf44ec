import Foundation
import Synchronization
import TGRelayCore
import TGRelayStore

/// Wakes long polls of the relay's getUpdates when updates for their bot were committed.
///
/// A waiter reads the bot's generation before it looks at the store and waits only while it is unchanged,
/// so an update committed between the look and the wait is never missed.
final class UpdateSignal: Sendable {
    private struct State {
        var generations: [String: Int] = [:]
        var waiters: [String: [Int: CheckedContinuation<Void, Never>]] = [:]
        var nextWaiter = 0
    }

    private let state = Mutex(State())

    func generation(bot: String) -> Int {
        state.withLock { $0.generations[bot, default: 0] }
    }

    func notify(bot: String) {
        let waiters = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            s.generations[bot, default: 0] += 1
            return Array((s.waiters.removeValue(forKey: bot) ?? [:]).values)
        }
        waiters.forEach { $0.resume() }
    }

    /// Returns when the bot's generation moves past `seen`, after `timeout`, or when cancelled.
    func wait(bot: String, seen: Int, timeout: Duration) async {
        let id = state.withLock { s in
            s.nextWaiter += 1
            return s.nextWaiter
        }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.suspend(bot: bot, id: id, seen: seen) }
            group.addTask { try? await Task.sleep(for: timeout) }
            await group.next()
            group.cancelAll()
        }
    }

    private func suspend(bot: String, id: Int, seen: Int) async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { s -> Bool in
                    if Task.isCancelled || s.generations[bot, default: 0] != seen { return true }
                    s.waiters[bot, default: [:]][id] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            state.withLock { $0.waiters[bot]?.removeValue(forKey: id) }?.resume()
        }
    }
}

/// Everything that receives updates (the poller, the webhook receiver) stores them through here: parsed,
/// committed, and only then announced to waiting consumers and, for chats that took the bot back, to the
/// dispatcher (the store cleared their inactivity in the same commit).
struct InboxIngest: Sendable {
    let store: any MessageStore
    let signal: UpdateSignal
    let dispatcher: Dispatcher

    /// Commits the updates (duplicates are ignored) and returns the new ones as stored.
    @discardableResult
    func ingest(bot: String, _ updates: [InboundUpdate]) async throws -> [InboundUpdate] {
        guard !updates.isEmpty else { return [] }
        let stored = try await store.storeUpdates(bot: bot, updates, now: Date())
        guard !stored.isEmpty else { return [] }
        signal.notify(bot: bot)
        for update in stored where update.reactivatesChat {
            if let chat = update.chat { await dispatcher.chatReactivated(LaneKey(bot: bot, chat: chat)) }
        }
        return stored
    }
}
