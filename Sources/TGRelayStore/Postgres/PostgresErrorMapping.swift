import PostgresNIO

extension StoreError {
    /// Maps a PostgresNIO error to a store error that names only the condition (SQLSTATE or the client's
    /// code), never the query, its parameters or the server's message text, which may quote values.
    static func mapping(postgres error: any Error) -> StoreError {
        if let error = error as? StoreError {
            return error
        }
        guard let error = error as? PSQLError else {
            // A decoding error or the like: a bug or a schema this version does not know.
            return StoreError(code: .internalError, detail: "postgres: \(type(of: error))")
        }
        if error.code == .server, let state = error.serverInfo?[.sqlState] {
            return StoreError(code: code(sqlState: state), detail: "SQLSTATE \(state)")
        }
        switch error.code {
        case .server, .messageDecodingFailure, .unexpectedBackendMessage, .invalidCommandTag, .tooManyParameters:
            return StoreError(code: .internalError, detail: "postgres: \(error.code)")
        default:
            // Connection refused, reset or closed, pool closed, TLS or authentication trouble: the database
            // cannot be reached now.
            return StoreError(code: .cannotOpen, detail: "postgres: \(error.code)")
        }
    }

    private static func code(sqlState: String) -> Code {
        switch sqlState {
        case "53100": .diskFull  // disk_full
        case "25006": .readOnly  // read_only_sql_transaction (a standby, or default_transaction_read_only)
        case "40001", "40P01", "55P03", "57014": .busy  // serialization, deadlock, lock timeout, statement timeout
        case "XX001", "XX002": .corrupt  // data_corrupted, index_corrupted
        default:
            switch sqlState.prefix(2) {
            case "08", "57", "53": .cannotOpen  // connection exception, shutdown / operator intervention, resources
            case "58": .ioError  // system error (I/O)
            default: .internalError
            }
        }
    }
}
