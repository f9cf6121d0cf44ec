/// Which store to open and how; `makeStore(_:)` opens it.
///
/// ```swift
/// let store = try await makeStore(.sqlite(path: "/var/lib/tgrelay/relay.db"))
/// let shared = try await makeStore(.postgres(url: "postgres://tgrelay:secret@db.internal/tgrelay"))
/// ```
public struct StoreConfiguration: Sendable {
    enum Backend: Sendable {
        case sqlite(path: String)
        case postgres(PostgresConnectionSettings)
    }

    let backend: Backend
    public var options: Options

    public struct Options: Sendable {
        /// SQLite: how long a write waits for a lock held by another process (a backup, `tgrelay ledger
        /// verify`) before failing with `StoreError.Code.busy`. PostgreSQL: how long any call may take,
        /// waiting for a connection included, before it fails as unavailable (the database is down).
        public var busyTimeout: Duration
        /// An upper bound on the database size in bytes, nil for none. Reaching it fails writes with
        /// `StoreError.Code.diskFull`, as a full disk would: a quota that keeps the relay from filling a
        /// shared disk.
        public var maximumSize: Int64?
        /// When set, the ledger keeps HMAC-SHA256(key, chat) instead of chat ids (`ledger.hash_chat_ids`),
        /// and `LedgerQuery.chat` is hashed the same way before matching.
        public var ledgerChatKey: [UInt8]?
        /// SQLite: connections that serve reads concurrently with the single writer.
        public var readerCount: Int
        /// PostgreSQL: the most connections this node opens (every call holds one for its duration).
        public var maximumConnections: Int
        /// Where a message without its own callback URL reports its final state (`callbacks.url`), nil for
        /// nowhere. Applies to transitions from the time the store is opened with it.
        public var defaultCallbackURL: String?

        public init(
            busyTimeout: Duration = .seconds(5), maximumSize: Int64? = nil, ledgerChatKey: [UInt8]? = nil,
            readerCount: Int = 4, defaultCallbackURL: String? = nil, maximumConnections: Int = 20
        ) {
            self.maximumConnections = maximumConnections
            self.defaultCallbackURL = defaultCallbackURL
            self.busyTimeout = busyTimeout
            self.maximumSize = maximumSize
            self.ledgerChatKey = ledgerChatKey
            self.readerCount = readerCount
        }
    }

    /// An embedded SQLite database in one file (with its `-wal` and `-shm` companions), created if missing.
    public static func sqlite(path: String, options: Options = Options()) -> StoreConfiguration {
        StoreConfiguration(backend: .sqlite(path: path), options: options)
    }

    /// A PostgreSQL database shared by several relay nodes, from a libpq-style URL
    /// (`postgres://user:password@host:port/database?sslmode=prefer`). Throws
    /// `StoreError.Code.invalidConfiguration` for a malformed URL, without repeating it.
    public static func postgres(url: String, options: Options = Options()) throws -> StoreConfiguration {
        StoreConfiguration(backend: .postgres(try PostgresConnectionSettings(url: url)), options: options)
    }

    /// Where the store lives, safe to log (no password).
    public var location: String {
        switch backend {
        case .sqlite(let path): path
        case .postgres(let settings): settings.description
        }
    }
}

/// Opens (creating or migrating as needed) the store the configuration names.
public func makeStore(_ configuration: StoreConfiguration) async throws -> any MessageStore {
    switch configuration.backend {
    case .sqlite(let path):
        try SQLiteMessageStore(path: path, options: configuration.options)
    case .postgres(let settings):
        try await PostgresMessageStore.open(settings, options: configuration.options)
    }
}
