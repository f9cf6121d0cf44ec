import Foundation
import GRDB
import Synchronization

/// Copies the WAL back into the database file on its own connection, off the commit path, and keeps the
/// WAL from growing without end.
///
/// SQLite's automatic checkpoint runs inside the commit that crosses 1,000 WAL pages: that commit then
/// also writes those pages to the database file and fsyncs it, and every accept waiting behind it waits
/// for that too (at 2,000 accepts/s, several times a second). The writer's automatic checkpoint is off
/// (`wal_autocheckpoint = 0`); after each group commit the writer calls `committed()`, which starts a
/// PASSIVE checkpoint here when none is running and the last one is `interval` old. PASSIVE never waits
/// for readers or the writer, so commits go on meanwhile. A crash mid-checkpoint is safe: the WAL keeps
/// every frame until a checkpoint completes.
///
/// SQLite writes the WAL from its start again only when a write transaction begins with every frame
/// already copied back. Under steady writes that never happens by itself: the background checkpoint ends
/// behind the frames committed while it ran. The WAL then grows by every commit (850 MB for a 60,000
/// message drain), and each frame lands in newly allocated file blocks, which the kernel zeroes first
/// (a third of the relay's CPU went to `pwrite`). So once a background checkpoint has run over a WAL of
/// `restartFrames` or more, the writer copies the few frames left itself, between two commits
/// (`catchUp`), and its next transaction starts the WAL over.
final class WALCheckpointer: Sendable {
    private struct State {
        var running = false
        var last = ContinuousClock.now
        var catchUpDue = false
    }

    private let connection: DatabaseQueue
    private let interval: Duration
    /// About 4 MB of WAL: below it, the background rounds alone are enough.
    private static let restartFrames = 1_000
    private let state = Mutex(State())

    init(path: String, configuration: Configuration, interval: Duration = .milliseconds(250)) throws {
        var configuration = configuration
        configuration.label = "tgrelay.store.checkpoint"
        connection = try DatabaseQueue(path: path, configuration: configuration)
        self.interval = interval
    }

    /// A group commit finished: checkpoint soon, unless one is running.
    func committed() {
        let start = state.withLock { state in
            guard !state.running, state.last.duration(to: .now) >= interval else { return false }
            state.running = true
            return true
        }
        guard start else { return }
        Task.detached(priority: .utility) {
            // A failed checkpoint loses nothing (the frames stay in the WAL); the next commit tries again.
            let frames = try? await self.connection.writeWithoutTransaction { db in try db.checkpoint(.passive) }
            self.state.withLock { state in
                state.running = false
                state.last = .now
                if let frames, frames.walFrameCount >= Self.restartFrames { state.catchUpDue = true }
            }
        }
    }

    /// Runs on the writer's connection between two group commits: when the WAL has grown and the
    /// background checkpoint has just copied most of it, copies the rest, so that the writer's next
    /// transaction writes the WAL from its start. A busy or failed checkpoint is harmless (tried again after
    /// the next background round).
    func catchUp(_ db: Database) {
        let due = state.withLock { state in
            guard state.catchUpDue, !state.running else { return false }
            state.catchUpDue = false
            return true
        }
        if due { _ = try? db.checkpoint(.passive) }
    }

    /// Waits for a running checkpoint, then closes the connection.
    func close() async throws {
        try await connection.writeWithoutTransaction { _ in }
        try connection.close()
    }
}
