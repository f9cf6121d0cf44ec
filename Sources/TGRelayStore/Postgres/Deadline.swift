import Synchronization

/// Runs an operation with an upper bound on its duration, for calls that may wait on a database that
/// is down: a connection pool keeps such a request queued while it retries connecting.
enum Deadline {
    /// Returns what `operation` returns, or throws `StoreError.Code.cannotOpen` once `limit` has passed (the
    /// operation is then cancelled and its result ignored).
    static func run<T: Sendable>(
        within limit: Duration, _ operation: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        let outcome = Outcome<T>()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                outcome.start(continuation)
                let work = Task {
                    do {
                        outcome.finish(.success(try await operation()))
                    } catch {
                        outcome.finish(.failure(error))
                    }
                }
                outcome.work = work
                Task {
                    try? await Task.sleep(for: limit)
                    if outcome.finish(.failure(StoreError(code: .cannotOpen, detail: "database did not answer in time"))) {
                        work.cancel()
                    }
                }
            }
        } onCancel: {
            outcome.cancelWork()
        }
    }

    /// The first result wins; later ones are dropped.
    private final class Outcome<T: Sendable>: Sendable {
        private struct State {
            var continuation: CheckedContinuation<T, any Error>?
            var done = false
            var work: Task<Void, Never>?
        }

        private let state = Mutex(State())

        func start(_ continuation: CheckedContinuation<T, any Error>) {
            state.withLock { $0.continuation = continuation }
        }

        var work: Task<Void, Never>? {
            get { state.withLock { $0.work } }
            set { state.withLock { $0.work = newValue } }
        }

        func cancelWork() {
            state.withLock { $0.work }?.cancel()
        }

        @discardableResult
        func finish(_ result: Result<T, any Error>) -> Bool {
            let continuation: CheckedContinuation<T, any Error>? = state.withLock { state in
                guard !state.done else { return nil }
                state.done = true
                return state.continuation
            }
            continuation?.resume(with: result)
            return continuation != nil
        }
    }
}
