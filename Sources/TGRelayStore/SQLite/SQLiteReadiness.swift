import Foundation
import GRDB

/// Readiness: can the store take a write now?
extension SQLiteMessageStore {
    /// A real, durable write (the time of the probe, committed with the WAL fsynced like any accept), so a
    /// read-only file, a full disk or an I/O error shows here; and room to grow: a file within
    /// `readinessMargin` bytes of its configured maximum size (free pages included) would refuse the next
    /// large message, so it is not ready.
    public func checkWritable(now: Date) async throws {
        try await write { db in
            try db.executeCached(
                sql: """
                    INSERT INTO sequence (name, value) VALUES ('readiness_probe', ?)
                    ON CONFLICT (name) DO UPDATE SET value = excluded.value
                    """,
                arguments: [now.storeMillis])
            let pageSize = try Int64.fetchOne(db, sql: "PRAGMA page_size") ?? 4096
            let pages = try Int64.fetchOne(db, sql: "PRAGMA page_count") ?? 0
            let maximum = try Int64.fetchOne(db, sql: "PRAGMA max_page_count") ?? .max
            let free = try Int64.fetchOne(db, sql: "PRAGMA freelist_count") ?? 0
            if (maximum - pages + free) * pageSize < Self.readinessMargin {
                throw StoreError(code: .diskFull, detail: "the database is at its maximum size")
            }
        }
    }

    /// Room for a few of the largest messages (a 4,096-character text with its parameters, indexes and ledger row).
    static let readinessMargin: Int64 = 64 * 1024
}
