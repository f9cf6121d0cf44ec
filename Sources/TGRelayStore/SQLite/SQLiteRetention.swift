import Foundation
import GRDB

/// Retention of finished messages and settled callbacks.
extension SQLiteMessageStore {
    /// Deletes in batches of `batchSize`, one commit each, so the writer is never held for long and accepts
    /// keep flowing while a large backlog of old rows goes.
    public func pruneFinishedMessages(before: Date) async throws -> Int {
        let cutoff = before.storeMillis
        var total = 0
        while true {
            let deleted = try await write { db in
                try db.executeCached(
                    sql: """
                        DELETE FROM message WHERE id IN (
                            SELECT id FROM message
                            WHERE status IN ('delivered', 'expired', 'cancelled') AND updated_at < ? LIMIT ?)
                        """,
                    arguments: [cutoff, Self.pruneBatchSize])
                return db.changesCount
            }
            total += deleted
            if deleted < Self.pruneBatchSize { break }
        }
        try await write { db in
            try db.executeCached(
                sql: "DELETE FROM callback WHERE state != 'pending' AND completed_at < ?", arguments: [cutoff])
        }
        return total
    }

    static let pruneBatchSize = 5000
}
