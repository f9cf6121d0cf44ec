#if canImport(GRDBSQLite)
import GRDBSQLite
#elseif canImport(SQLite3)
import SQLite3
#endif
import GRDB

/// Binds and runs a cached GRDB statement through SQLite's C API.
///
/// Why: accept inserts up to thousands of rows per call, and GRDB's general argument path converts every
/// value to a `DatabaseValue` and nests a closure per value before binding; binding directly, several rows
/// per statement, cuts the cost of a row by more than half. Only for plain INSERTs on the writer inside the group transaction: GRDB's statement
/// hooks, skipped here, matter for transaction observers and schema changes, which this store does not use.
struct DirectInsert {
    private let statement: Statement
    private let db: Database
    private var handle: OpaquePointer { statement.sqliteStatement }
    /// SQLite copies the text before `bind` returns, so Swift strings need to live only for the call.
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    init(_ db: Database, sql: String) throws {
        self.db = db
        statement = try db.cachedStatement(sql: sql)
    }

    /// Binds `values` to the parameters in order, runs the statement to its end (handing each result row, if
    /// any, to `row`), and resets it.
    func run(_ values: [Value], row: (Row) -> Void = { _ in }) throws {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
        for (offset, value) in values.enumerated() {
            let index = Int32(offset + 1)
            let code: Int32
            switch value {
            case .null: code = sqlite3_bind_null(handle, index)
            case .integer(let integer): code = sqlite3_bind_int64(handle, index, integer)
            case .text(let text): code = text.withCString { sqlite3_bind_text(handle, index, $0, -1, Self.transient) }
            }
            guard code == SQLITE_OK else { throw error(code) }
        }
        var code = sqlite3_step(handle)
        while code == SQLITE_ROW {
            row(Row(handle: handle))
            code = sqlite3_step(handle)
        }
        sqlite3_reset(handle)
        guard code == SQLITE_DONE else { throw error(code) }
    }

    /// The current result row; valid only inside the `run` callback.
    struct Row {
        fileprivate let handle: OpaquePointer

        func int64(_ column: Int32) -> Int64 {
            sqlite3_column_int64(handle, column)
        }
    }

    private func error(_ code: Int32) -> DatabaseError {
        let extended = sqlite3_extended_errcode(db.sqliteConnection)
        return DatabaseError(resultCode: ResultCode(rawValue: extended != 0 ? extended : code))
    }

    enum Value {
        case null
        case integer(Int64)
        case text(String)

        init(_ text: String?) {
            self = text.map { .text($0) } ?? .null
        }

        init(_ integer: Int64?) {
            self = integer.map { .integer($0) } ?? .null
        }

        init(_ flag: Bool) {
            self = .integer(flag ? 1 : 0)
        }
    }
}
