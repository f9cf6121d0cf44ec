import Foundation
import PostgresNIO

/// Retention of finished messages and settled callbacks.
extension PostgresMessageStore {
    /// Deletes in batches (one commit each, as in SQLite), so no transaction holds many row locks for long
    /// while nodes keep accepting and dispatching.
    public func pruneFinishedMessages(before: Date) async throws -> Int {
        let cutoff = before.storeMillis
        let batch = SQLiteMessageStore.pruneBatchSize
        var total = 0
        while true {
            let deleted = try await rows("""
                DELETE FROM message WHERE id IN (
                    SELECT id FROM message
                    WHERE status IN ('delivered', 'expired', 'cancelled') AND updated_at < \(cutoff) LIMIT \(batch))
                RETURNING id
                """).count
            total += deleted
            if deleted < batch { break }
        }
        try await rows("DELETE FROM callback WHERE state != 'pending' AND completed_at < \(cutoff)")
        return total
    }
}
