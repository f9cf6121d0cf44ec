import Foundation
import GRDB
import Synchronization

/// Copies the WAL back into the database file on its own connection, off the commit path.
///
/// SQLite's automatic checkpoint runs inside the commit that crosses 1,000 WAL pages: that commit then
/// also writes those pages to the database file and fsyncs it, and every accept waiting behind it waits
/// for that too (at 2,000 accepts/s, several times a second). The writer's automatic checkpoint is off
/// (`wal_autocheckpoint = 0`); after each group commit the writer calls `committed()`, which starts a
/// PASSIVE checkpoint here when none is running and the last one is `interval` old. PASSIVE never waits
/// for readers or the writer, so commits go on meanwhile. A crash mid-checkpoint is safe: the WAL keeps
/// every frame until a checkpoint completes.
final class WALCheckpointer: Sendable {
    private struct State {
        var running = false
        var last = ContinuousClock.now
    }

    private let connection: DatabaseQueue
    private let interval: Duration
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
            try? await self.connection.writeWithoutTransaction { db in try db.checkpoint(.passive) }
            self.state.withLock { state in
                state.running = false
                state.last = .now
            }
        }
    }

    /// Waits for a running checkpoint, then closes the connection.
    func close() async throws {
        try await connection.writeWithoutTransaction { _ in }
        try connection.close()
    }
}
