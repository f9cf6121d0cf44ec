import Synchronization

/// The bots whose lease this node holds (set by `LeaseKeeper`), for the parts that work per bot beside the
/// dispatcher: the update poller runs a bot's loop only while it is owned, the pusher, the callback sender
/// and the alert rules leave other nodes' bots to them.
public final class BotOwnership: Sendable {
    private struct State {
        var owned: Set<String> = []
        var waiters: [Int: (bot: String, owned: Bool, continuation: CheckedContinuation<Void, Never>)] = [:]
        var nextToken = 0
    }

    private let state = Mutex(State())

    public init() {}

    public func owns(_ bot: String) -> Bool {
        state.withLock { $0.owned.contains(bot) }
    }

    /// The bots whose side work (pushes, callbacks) other nodes do: the configured bots this node does not
    /// hold. A bot no longer configured is held by no node, and any node finishes its owed work.
    func servedElsewhere(_ configuration: RelayConfiguration) -> Set<String> {
        let owned = state.withLock { $0.owned }
        return Set(configuration.bots.map(\.name)).subtracting(owned)
    }

    func set(_ bot: String, owned: Bool) {
        let resumed = state.withLock { state in
            if owned { state.owned.insert(bot) } else { state.owned.remove(bot) }
            let due = state.waiters.filter { $0.value.bot == bot && $0.value.owned == owned }
            for token in due.keys { state.waiters[token] = nil }
            return due.values.map(\.continuation)
        }
        resumed.forEach { $0.resume() }
    }

    /// Runs `body` whenever `bot` is owned, cancelling it when the ownership ends, until the calling task
    /// is cancelled.
    func whileOwned(_ bot: String, _ body: @escaping @Sendable () async -> Void) async {
        while !Task.isCancelled {
            await until(bot, owned: true)
            guard !Task.isCancelled else { return }
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await body() }
                group.addTask { await self.until(bot, owned: false) }
                await group.next()
                group.cancelAll()
            }
        }
    }

    /// Returns once the bot's ownership is `owned` (at once if it is), or when the task is cancelled.
    private func until(_ bot: String, owned: Bool) async {
        let token = state.withLock { state in
            state.nextToken += 1
            return state.nextToken
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let resumeNow = state.withLock { state in
                    guard state.owned.contains(bot) != owned, !Task.isCancelled else { return true }
                    state.waiters[token] = (bot, owned, continuation)
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let continuation = state.withLock { $0.waiters.removeValue(forKey: token)?.continuation }
            continuation?.resume()
        }
    }
}
