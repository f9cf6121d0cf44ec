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
        // In id order from where the last batch stopped (see the SQLite driver): no batch scans again the
        // rows, dead tuples included, that an earlier one went through.
        var after: Int64 = 0
        while true {
            let deleted = try await rows("""
                DELETE FROM message WHERE id IN (
                    SELECT id FROM message WHERE id > \(after) AND created_at < \(cutoff)
                        AND status IN ('delivered', 'expired', 'cancelled') AND updated_at < \(cutoff)
                    ORDER BY id LIMIT \(batch))
                RETURNING id
                """).map { try $0.at(0, as: Int64.self) }
            total += deleted.count
            after = deleted.max() ?? after
            if deleted.count < batch { break }
        }
        try await rows("DELETE FROM callback WHERE state != 'pending' AND completed_at < \(cutoff)")
        return total
    }
}
