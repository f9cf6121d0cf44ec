import Foundation
import GRDB

/// Retention of finished messages and settled callbacks.
extension SQLiteMessageStore {
    /// Deletes in batches of `batchSize`, one commit each, so the writer is never held for long and accepts
    /// keep flowing while a large backlog of old rows goes.
    public func pruneFinishedMessages(before: Date) async throws -> Int {
        let cutoff = before.storeMillis
        var total = 0
        // Walks the table in id order from where the last batch stopped, so no batch scans again what an
        // earlier one looked at; ids grow with acceptance, so nothing accepted after the cutoff can qualify.
        var after: Int64 = 0
        while true {
            let from = after
            let batch = try await write { db in
                let ids = try Int64.fetchAll(
                    db, sql: """
                        SELECT id FROM message WHERE id > ? AND created_at < ?
                            AND status IN ('delivered', 'expired', 'cancelled') AND updated_at < ?
                        ORDER BY id LIMIT ?
                        """,
                    arguments: [from, cutoff, cutoff, Self.pruneBatchSize])
                guard let last = ids.last else { return (deleted: 0, last: from) }
                try db.execute(sql: "DELETE FROM message WHERE id IN (\(ids.map(String.init).joined(separator: ",")))")
                return (deleted: db.changesCount, last: last)
            }
            total += batch.deleted
            after = batch.last
            if batch.deleted < Self.pruneBatchSize { break }
        }
        try await write { db in
            try db.executeCached(
                sql: "DELETE FROM callback WHERE state != 'pending' AND completed_at < ?", arguments: [cutoff])
        }
        return total
    }

    static let pruneBatchSize = 5000
}
