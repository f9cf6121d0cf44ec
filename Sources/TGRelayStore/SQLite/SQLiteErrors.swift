import GRDB

extension StoreError {
    /// Maps whatever a database call threw to a `StoreError`. Only SQLite's result code goes into the
    /// detail: GRDB's own description can contain SQL, which must not reach logs or responses.
    static func mapping(_ error: any Error) -> StoreError {
        if let error = error as? StoreError {
            return error
        }
        guard let error = error as? DatabaseError else {
            return StoreError(code: .internalError, detail: String(describing: type(of: error)))
        }
        let detail = "SQLite result code \(error.extendedResultCode.rawValue)"
        switch error.resultCode {
        case .SQLITE_FULL: return StoreError(code: .diskFull, detail: detail)
        case .SQLITE_READONLY, .SQLITE_PERM: return StoreError(code: .readOnly, detail: detail)
        case .SQLITE_IOERR: return StoreError(code: .ioError, detail: detail)
        case .SQLITE_BUSY, .SQLITE_LOCKED: return StoreError(code: .busy, detail: detail)
        case .SQLITE_CANTOPEN: return StoreError(code: .cannotOpen, detail: detail)
        case .SQLITE_CORRUPT, .SQLITE_NOTADB: return StoreError(code: .corrupt, detail: detail)
        default: return StoreError(code: .internalError, detail: detail)
        }
    }
}
