import GRDB
import Synchronization

/// Merges concurrent small accepts into one insert per group commit.
///
/// Every single-message POST was a job of its own in the group commit: a savepoint, a sequence update, a
/// one-row insert, a lane and a count upsert. Here the first small accept of a round enqueues one writer
/// job; when that job runs it takes every accept that arrived meanwhile and stores them with one
/// `SQLiteAccept.run`, as the batch endpoint does. Callers get their own results once the commit is
/// durable, exactly as from separate jobs: idempotency keys repeated across merged calls resolve as they
/// would in sequence (`SQLiteAccept` matches duplicates within one run). If the merged run fails, each
/// call runs again alone in its own savepoint, so one bad call fails only itself.
///
/// Proxy sends with a dedup window, and uploads, keep the plain path: a resend must find the message an
/// earlier call inserted in the same transaction, which a merged run would not have inserted yet.
final class AcceptCoalescer: Sendable {
    private struct Call {
        var messages: [NewMessage]
        var nowMillis: Int64
        var continuation: CheckedContinuation<[AcceptResult], any Error>
    }

    private struct State {
        var pending: [Call] = []
        var scheduled = false
    }

    private let writer: GroupCommitWriter
    private let state = Mutex(State())

    init(writer: GroupCommitWriter) {
        self.writer = writer
    }

    static func canMerge(_ messages: [NewMessage]) -> Bool {
        messages.count <= 16 && messages.allSatisfy { $0.dedupWindow == nil && $0.uploads.isEmpty }
    }

    func accept(_ messages: [NewMessage], nowMillis: Int64) async throws -> [AcceptResult] {
        try await withCheckedThrowingContinuation { continuation in
            let submit = state.withLock { state in
                state.pending.append(Call(messages: messages, nowMillis: nowMillis, continuation: continuation))
                defer { state.scheduled = true }
                return !state.scheduled
            }
            if submit { Task { await self.storePending() } }
        }
    }

    /// One writer job for the calls pending when it runs; their continuations resume after the commit.
    /// The merged messages are stored as accepted at the latest of the calls' times.
    private func storePending() async {
        let taken = Mutex<[Call]?>(nil)
        do {
            let results = try await writer.write { db in
                let calls = self.takePending()
                taken.withLock { $0 = calls }
                let nowMillis = calls.map(\.nowMillis).max() ?? 0
                return try Self.run(calls.map(\.messages), nowMillis: nowMillis, db)
            }
            for (call, result) in zip(taken.withLock { $0 } ?? [], results) {
                call.continuation.resume(with: result)
            }
        } catch {
            // A writer that refused the job (closed) never ran it: the calls are still pending.
            for call in taken.withLock({ $0 }) ?? takePending() { call.continuation.resume(throwing: error) }
        }
    }

    /// The calls of this round; the next accept starts another.
    private func takePending() -> [Call] {
        state.withLock { state in
            defer { state = State() }
            return state.pending
        }
    }

    private static func run(_ calls: [[NewMessage]], nowMillis: Int64, _ db: Database) throws -> [Result<[AcceptResult], any Error>] {
        do {
            var merged: [AcceptResult] = []
            try db.inSavepoint {
                merged = try SQLiteAccept.run(calls.flatMap { $0 }, nowMillis: nowMillis, db)
                return .commit
            }
            var rest = merged[...]
            return calls.map { call in
                defer { rest = rest.dropFirst(call.count) }
                return .success(Array(rest.prefix(call.count)))
            }
        } catch {
            // After a disk-full or I/O error the transaction may be gone: the whole group fails.
            guard db.isInsideTransaction else { throw error }
        }
        return calls.map { messages in
            Result {
                var results: [AcceptResult] = []
                try db.inSavepoint {
                    results = try SQLiteAccept.run(messages, nowMillis: nowMillis, db)
                    return .commit
                }
                return results
            }.mapError { StoreError.mapping($0) }
        }
    }
}
