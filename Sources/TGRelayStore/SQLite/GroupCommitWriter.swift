import GRDB
import Synchronization

/// Turns many concurrent writes into few durable commits.
///
/// SQLite has one writer and each `synchronous=FULL` commit costs an fsync, so committing every call on its
/// own would cap throughput at the disk's fsync rate. Instead, callers enqueue operations; one drain task
/// takes everything pending, runs each operation in its own savepoint inside one transaction (a failing
/// operation rolls back alone and gets its own error), commits once, then resumes every caller. While a
/// commit is in progress new calls pile up and form the next group, so the group size adapts to load.
final class GroupCommitWriter: Sendable {
    private struct State {
        var pending: [any GroupCommitJob] = []
        var draining = false
        var closed = false
        var idleWaiters: [CheckedContinuation<Void, Never>] = []
    }

    private let pool: DatabasePool
    private let checkpointer: WALCheckpointer
    private let state = Mutex(State())

    /// The checkpointer hears of every durable group commit and may copy WAL frames between two of them.
    init(pool: DatabasePool, checkpointer: WALCheckpointer) {
        self.pool = pool
        self.checkpointer = checkpointer
    }

    var isClosed: Bool { state.withLock { $0.closed } }

    /// Runs `operation` in the next group commit and returns its result once that commit is durable.
    /// The operation runs on the database's writer thread: it must not block on anything else.
    func write<T: Sendable>(_ operation: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let job = WriteJob(operation: operation, continuation: continuation)
            let action: EnqueueAction = state.withLock { state in
                if state.closed { return .rejectClosed }
                state.pending.append(job)
                if state.draining { return .none }
                state.draining = true
                return .startDrain
            }
            switch action {
            case .rejectClosed: continuation.resume(throwing: StoreError(code: .closed))
            case .startDrain: Task { await self.drain() }
            case .none: break
            }
        }
    }

    private enum EnqueueAction { case none, startDrain, rejectClosed }

    /// Refuses new writes and waits until the ones already enqueued are committed.
    func close() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let idle = state.withLock { state in
                state.closed = true
                if state.draining {
                    state.idleWaiters.append(continuation)
                    return false
                }
                return true
            }
            if idle { continuation.resume() }
        }
    }

    private func drain() async {
        while true {
            let (batch, waiters): ([any GroupCommitJob], [CheckedContinuation<Void, Never>]) = state.withLock { state in
                if state.pending.isEmpty {
                    state.draining = false
                    defer { state.idleWaiters = [] }
                    return ([], state.idleWaiters)
                }
                defer { state.pending = [] }
                return (state.pending, [])
            }
            if batch.isEmpty {
                waiters.forEach { $0.resume() }
                return
            }
            await commit(batch)
        }
    }

    private func commit(_ batch: [any GroupCommitJob]) async {
        do {
            try await pool.writeWithoutTransaction { db in
                checkpointer.catchUp(db)
                try db.inTransaction(.immediate) {
                    for job in batch {
                        try job.run(db)
                    }
                    return .commit
                }
            }
            for job in batch { job.finish(groupError: nil) }
            checkpointer.committed()
        } catch {
            let mapped = StoreError.mapping(error)
            for job in batch { job.finish(groupError: mapped) }
        }
    }
}

private protocol GroupCommitJob: Sendable {
    /// Runs the operation in its own savepoint, remembering its outcome; a failed operation is rolled back
    /// alone. Throws only when the whole group cannot commit.
    func run(_ db: Database) throws
    /// Resumes the caller: with the operation's outcome if the group committed, else with the group's error.
    func finish(groupError: StoreError?)
}

/// `outcome` is written by `run` on the writer thread and read by `finish` after the commit returned, on
/// the drain task, which awaited the writer: the two never overlap, hence `@unchecked Sendable`.
private final class WriteJob<T: Sendable>: GroupCommitJob, @unchecked Sendable {
    private let operation: @Sendable (Database) throws -> T
    private let continuation: CheckedContinuation<T, any Error>
    private var outcome: Result<T, StoreError>?

    init(operation: @escaping @Sendable (Database) throws -> T, continuation: CheckedContinuation<T, any Error>) {
        self.operation = operation
        self.continuation = continuation
    }

    func run(_ db: Database) throws {
        try db.executeCached(sql: "SAVEPOINT job")
        do {
            let value = try operation(db)
            try db.executeCached(sql: "RELEASE SAVEPOINT job")
            outcome = .success(value)
        } catch {
            outcome = .failure(StoreError.mapping(error))
            // After a disk-full or I/O error SQLite may have rolled back the whole transaction, not just
            // this savepoint: then nothing of the group can commit, and every caller must be told.
            guard db.isInsideTransaction else { throw error }
            try db.executeCached(sql: "ROLLBACK TO SAVEPOINT job")
            try db.executeCached(sql: "RELEASE SAVEPOINT job")
        }
    }

    func finish(groupError: StoreError?) {
        switch (outcome, groupError) {
        case (.failure(let error)?, _): continuation.resume(throwing: error)
        case (_, let groupError?): continuation.resume(throwing: groupError)
        case (.success(let value)?, nil): continuation.resume(returning: value)
        case (nil, nil): continuation.resume(throwing: StoreError(code: .internalError, detail: "operation did not run"))
        }
    }
}
