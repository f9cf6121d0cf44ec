import GRDB

/// Internal access below the store's API, for the test suite: tampering with the ledger the way someone
/// with access to the file could, and checking the connection settings durability depends on.
extension SQLiteMessageStore {
    /// Runs SQL on the writer connection, committed on its own.
    func executeRaw(_ sql: String) async throws {
        try await write { db in try db.execute(sql: sql) }
    }

    /// `journal_mode` and `synchronous` of the connection that writes.
    func writerSettings() async throws -> (journalMode: String, synchronous: Int) {
        try await write { db in
            (try String.fetchOne(db, sql: "PRAGMA journal_mode") ?? "", try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1)
        }
    }
}
