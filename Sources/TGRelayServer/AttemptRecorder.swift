import Synchronization
import TGRelayStore

/// Records the attempts of concurrent sends in groups: while one group is being committed, attempts
/// that finish meanwhile wait and form the next one, so a burst of answers costs one store call (one
/// transaction, the ledger rows chained in the group's order) instead of one call each.
final class AttemptRecorder: Sendable {
    private struct State {
        var pending: [(attempt: AttemptRecord, continuation: CheckedContinuation<Void, any Error>)] = []
        var recording = false
    }

    private let store: any MessageStore
    private let state = Mutex(State())

    init(store: any MessageStore) {
        self.store = store
    }

    /// Returns once the attempt is durably recorded with its ledger row; throws what the store threw.
    func record(_ attempt: AttemptRecord) async throws {
        try await withCheckedThrowingContinuation { continuation in
            let startsGroup = state.withLock { state in
                state.pending.append((attempt, continuation))
                defer { state.recording = true }
                return !state.recording
            }
            if startsGroup { Task { await self.recordGroups() } }
        }
    }

    private func recordGroups() async {
        while true {
            let group = state.withLock { state in
                defer { state.pending = [] }
                if state.pending.isEmpty { state.recording = false }
                return state.pending
            }
            guard !group.isEmpty else { return }
            do {
                try await store.record(group.map(\.attempt))
                group.forEach { $0.continuation.resume() }
            } catch where group.count == 1 {
                group[0].continuation.resume(throwing: error)
            } catch {
                // The group is all or nothing: one bad attempt (an unknown message) must not fail the
                // others, so each is recorded on its own and gets its own answer.
                for (attempt, continuation) in group {
                    do {
                        try await store.record(attempt)
                        continuation.resume()
                    } catch {
                        continuation.resume(throwing: error)
                    }
                }
            }
        }
    }
}
