import Synchronization

/// Lets a proxy request wait for its message's final state: the dispatcher (and a cancel) signal every
/// message that becomes final, and waiters resume on that signal or at their timeout, whichever is first.
/// With several nodes another node may deliver the message: then waiters also ask the store every
/// `storePoll`.
public final class DeliveryWaiters: Sendable {
    private let waiting = Mutex<[Int64: [Int: CheckedContinuation<Void, Never>]]>([:])
    private let tokens = Atomic<Int>(0)
    let storePoll: Duration?

    public init(storePoll: Duration? = nil) {
        self.storePoll = storePoll
    }

    /// The message reached a final state.
    func signal(_ id: Int64) {
        let resumed = waiting.withLock { $0.removeValue(forKey: id) }
        resumed?.values.forEach { $0.resume() }
    }

    /// Returns after `signal(id)` or `timeout`. `isFinal` is asked once after the waiter is registered, so a
    /// message that became final just before cannot be missed.
    func wait(for id: Int64, timeout: Duration, isFinal: @escaping @Sendable () async -> Bool) async {
        let token = tokens.wrappingAdd(1, ordering: .relaxed).oldValue
        var timer: Task<Void, Never>?
        await withCheckedContinuation { continuation in
            waiting.withLock { $0[id, default: [:]][token] = continuation }
            timer = Task { [storePoll] in
                let deadline = ContinuousClock.now + timeout
                while !Task.isCancelled {
                    if await isFinal() { break }
                    let left = deadline - .now
                    guard left > .zero else { break }
                    try? await Task.sleep(for: min(left, storePoll ?? left))
                }
                self.end(id, token)
            }
        }
        timer?.cancel()
    }

    private func end(_ id: Int64, _ token: Int) {
        let continuation = waiting.withLock { waiting -> CheckedContinuation<Void, Never>? in
            let continuation = waiting[id]?.removeValue(forKey: token)
            if waiting[id]?.isEmpty == true { waiting[id] = nil }
            return continuation
        }
        continuation?.resume()
    }
}
