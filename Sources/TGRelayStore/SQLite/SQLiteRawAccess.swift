import GRDB

extension SQLiteMessageStore {
    /// Runs SQL on the writer connection outside the store's rules, committed on its own. Internal: the
    /// test suite uses it to tamper with the ledger the way someone with file access could.
    func executeRaw(_ sql: String) async throws {
        try await write { db in try db.execute(sql: sql) }
    }
}
