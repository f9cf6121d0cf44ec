import Foundation
import Logging
import PostgresNIO
import Synchronization
import TGRelayCore

/// The PostgreSQL driver, for several relay nodes sharing one database.
///
/// Every mutating call is one transaction on a pooled connection, committed with PostgreSQL's default
/// (synchronous) commit before it returns; the server groups concurrent commits into shared WAL flushes.
/// Every call is bounded by `Options.busyTimeout`: while the database is down or unreachable, calls fail
/// with an unavailable `StoreError` instead of waiting, and the pool reconnects by itself once it is back.
/// The methods live in one extension per concern, as in the SQLite driver.
public final class PostgresMessageStore: MessageStore {
    let client: PostgresClient
    let logger: Logger
    let ledgerChatKey: [UInt8]?
    let timeout: Duration
    private let runner: Task<Void, Never>
    private let closed = Mutex(false)

    /// Connects, runs the migrations not applied yet and records the default callback URL.
    public static func open(
        _ settings: PostgresConnectionSettings, options: StoreConfiguration.Options = StoreConfiguration.Options(),
        logger: Logger = Logger(label: "tgrelay.store.postgres")
    ) async throws -> PostgresMessageStore {
        let store = PostgresMessageStore(settings: settings, options: options, logger: logger)
        do {
            _ = try await store.migrate()
            try await store.transaction { connection in
                try await PostgresSchema.setDefaultCallbackURL(options.defaultCallbackURL, connection, logger: logger)
            }
        } catch {
            try? await store.close()
            throw error
        }
        return store
    }

    private init(settings: PostgresConnectionSettings, options: StoreConfiguration.Options, logger: Logger) {
        let client = PostgresClient(
            configuration: settings.clientConfiguration(
                maximumConnections: options.maximumConnections, connectTimeout: options.busyTimeout),
            backgroundLogger: logger)
        self.client = client
        self.logger = logger
        ledgerChatKey = options.ledgerChatKey
        timeout = options.busyTimeout
        runner = Task { await client.run() }
    }

    /// Applies pending schema migrations (also `tgrelay migrate`); returns the names applied.
    public func migrate() async throws -> [String] {
        try await transaction { [logger] connection in try await PostgresSchema.migrate(connection, logger: logger) }
    }

    public func close() async throws {
        let wasClosed = closed.withLock { closed in
            defer { closed = true }
            return closed
        }
        guard !wasClosed else { return }
        runner.cancel()
        await runner.value
    }

    /// One transaction: committed when `body` returns, rolled back when it throws. `bounded: false` for
    /// walks over the whole ledger, which may take longer than the time limit.
    func transaction<T: Sendable>(
        begin: String = "BEGIN", bounded: Bool = true, _ body: @escaping @Sendable (PostgresConnection) async throws -> T
    ) async throws -> T {
        try await connection(bounded: bounded) { [logger] connection in
            try await connection.query(PostgresQuery(unsafeSQL: begin), logger: logger)
            let result: T
            do {
                result = try await body(connection)
            } catch {
                _ = try? await connection.query("ROLLBACK", logger: logger)
                throw error
            }
            try await connection.query("COMMIT", logger: logger)
            return result
        }
    }

    /// A pooled connection for `body`, within the time limit; errors mapped to `StoreError`.
    func connection<T: Sendable>(
        bounded: Bool = true, _ body: @escaping @Sendable (PostgresConnection) async throws -> T
    ) async throws -> T {
        if closed.withLock({ $0 }) {
            throw StoreError(code: .closed)
        }
        let client = client
        do {
            return try await Deadline.run(within: bounded ? timeout : .seconds(3600)) {
                try await client.withConnection { connection in try await body(connection) }
            }
        } catch {
            throw StoreError.mapping(postgres: error)
        }
    }

    /// The rows of one query on a pooled connection.
    @discardableResult
    func rows(_ query: PostgresQuery) async throws -> [PostgresRandomAccessRow] {
        try await connection { [logger] connection in try await connection.query(query, logger: logger).all() }
    }

    public func message(id: Int64) async throws -> OutboundMessage? {
        try await rows("SELECT \(unescaped: PostgresRows.messageColumns) FROM message WHERE id = \(id)").first.map(PostgresRows.message)
    }

    public func counts() async throws -> [BotCounts] {
        let byStatus = try await rows("SELECT bot, status, count(*) FROM message GROUP BY bot, status")
        let oldest = try await rows(
            "SELECT bot, min(created_at) FROM message WHERE status IN \(unescaped: PostgresSchema.pending) GROUP BY bot")
        var byBot: [String: BotCounts] = [:]
        for row in byStatus {
            let bot: String = try row.at(0)
            let n = Int(try row.at(2) as Int64)
            try byBot[bot, default: BotCounts(bot: bot)].add(n, status: try row.at(1))
        }
        for row in oldest {
            byBot[try row.at(0)]?.oldestPending = Date(storeMillis: try row.at(1))
        }
        return byBot.values.sorted { $0.bot < $1.bot }
    }
}

extension PostgresRowSequence {
    /// Every row, each ready for access by position.
    func all() async throws -> [PostgresRandomAccessRow] {
        var rows: [PostgresRandomAccessRow] = []
        for try await row in self {
            rows.append(row.makeRandomAccess())
        }
        return rows
    }
}

extension PostgresRandomAccessRow {
    /// The column at `index` (in the order of the SELECT list), decoded.
    func at<T: PostgresDecodable>(_ index: Int, as type: T.Type = T.self) throws -> T {
        try self[index].decode(T.self)
    }
}
