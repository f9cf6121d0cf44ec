import Foundation
import PostgresNIO

/// Readiness: can the database take a write now?
extension PostgresMessageStore {
    /// A real write, committed: a standby or a read-only transaction default answers 25006 (`readOnly`), a
    /// full disk 53100 (`diskFull`), an unreachable server `cannotOpen`. The row written is the one-row
    /// callback setting, set to what it already is, so nothing changes for anyone reading it.
    public func checkWritable(now: Date) async throws {
        try await transaction { [logger] connection in
            try await connection.query("UPDATE callback_setting SET default_url = default_url WHERE id = 1", logger: logger)
        }
    }
}
