/// An error from a `MessageStore`.
///
/// A struct around a code rather than an open enum (as postgres-nio's `PSQLError`), so that new codes
/// are not a breaking change. Descriptions never contain SQL, parameter values or message content:
/// they are safe to log and to show in an error response.
public struct StoreError: Error, Sendable, Equatable, CustomStringConvertible {
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Sendable, Hashable {
            case diskFull, readOnly, ioError, busy, cannotOpen, closed
            case corrupt, notFound, ledgerBroken, invalidConfiguration, internalError
        }

        private let base: Base

        private init(_ base: Base) {
            self.base = base
        }

        /// No space left (disk full, or the configured maximum database size reached).
        public static let diskFull = Code(.diskFull)
        /// The database file or its directory cannot be written.
        public static let readOnly = Code(.readOnly)
        /// The operating system reported an I/O error.
        public static let ioError = Code(.ioError)
        /// The database stayed locked (by another process, or a long checkpoint) past the busy timeout.
        public static let busy = Code(.busy)
        /// The database could not be opened or reached.
        public static let cannotOpen = Code(.cannotOpen)
        /// The store was closed.
        public static let closed = Code(.closed)
        /// The database file is damaged or not a database.
        public static let corrupt = Code(.corrupt)
        /// The call names a message that does not exist.
        public static let notFound = Code(.notFound)
        /// The ledger's hash chain does not verify (for operations that require it to).
        public static let ledgerBroken = Code(.ledgerBroken)
        /// The store's configuration cannot be used (e.g. a malformed database URL).
        public static let invalidConfiguration = Code(.invalidConfiguration)
        /// Anything else: a bug or an unexpected database answer.
        public static let internalError = Code(.internalError)

        public var description: String { base.rawValue }

        /// Conditions of the environment that may clear by themselves: answer 503 with Retry-After.
        var isUnavailable: Bool {
            switch base {
            case .diskFull, .readOnly, .ioError, .busy, .cannotOpen, .closed: true
            case .corrupt, .notFound, .ledgerBroken, .invalidConfiguration, .internalError: false
            }
        }
    }

    public let code: Code
    /// A short, value-free detail for logs, e.g. the database's result code.
    public let detail: String?

    public init(code: Code, detail: String? = nil) {
        self.code = code
        self.detail = detail
    }

    /// True when the store cannot take the call now but may later (disk full, read-only or unwritable
    /// file, I/O error, database locked too long, database down or closed): answer 503 + Retry-After.
    public var isUnavailable: Bool { code.isUnavailable }

    public var description: String {
        if let detail {
            return "StoreError.\(code) (\(detail))"
        }
        return "StoreError.\(code)"
    }
}
