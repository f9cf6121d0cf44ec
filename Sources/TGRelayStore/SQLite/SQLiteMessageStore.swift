import Foundation
import GRDB
import TGRelayCore

/// The embedded SQLite driver: one database file in WAL mode with `synchronous=FULL`, so a write returns
/// only after its commit reached the disk, and readers never wait for the writer.
///
/// All writes go through a `GroupCommitWriter` (one transaction per group of concurrent calls); reads use
/// the pool's reader connections. The methods live in one extension per concern (accept, dispatch, chats,
/// dead letters, ledger).
public final class SQLiteMessageStore: MessageStore {
    let pool: DatabasePool
    let writer: GroupCommitWriter
    let coalescer: AcceptCoalescer
    private let checkpointer: WALCheckpointer
    let ledgerChatKey: [UInt8]?

    /// Opens the database at `path`, creating it and its schema if needed.
    public init(path: String, options: StoreConfiguration.Options = StoreConfiguration.Options()) throws {
        var configuration = Configuration()
        configuration.label = "tgrelay.store"
        configuration.busyMode = .timeout(Self.seconds(options.busyTimeout))
        configuration.maximumReaderCount = max(1, options.readerCount)
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
            try SQLiteSchema.migrator.migrate(pool)
            // Before the size limit applies, and only when it changed: opening must not need to grow the file.
            try pool.write { db in
                try db.execute(
                    sql: "UPDATE callback_setting SET default_url = ? WHERE id = 1 AND default_url IS NOT ?",
                    arguments: [options.defaultCallbackURL, options.defaultCallbackURL])
            }
            try pool.writeWithoutTransaction { db in try Self.prepareWriter(db, maximumSize: options.maximumSize) }
            checkpointer = try WALCheckpointer(path: path, configuration: configuration)
        } catch {
            throw StoreError.mapping(error)
        }
        writer = GroupCommitWriter(pool: pool, checkpointer: checkpointer)
        coalescer = AcceptCoalescer(writer: writer)
        ledgerChatKey = options.ledgerChatKey
    }

    /// Settings of the one connection that writes. Applied after the pool is open because the pool's own WAL
    /// setup switches to `synchronous = NORMAL`, and writes a little, which a size limit could forbid.
    private static func prepareWriter(_ db: Database, maximumSize: Int64?) throws {
        // FULL: the WAL is fsynced at every commit, so an acknowledged write survives power loss (NORMAL,
        // the usual WAL setting, may lose the last commits).
        try db.execute(sql: "PRAGMA synchronous = FULL")
        guard try Int.fetchOne(db, sql: "PRAGMA synchronous") == 2 else {
            throw StoreError(code: .internalError, detail: "synchronous=FULL was not applied")
        }
        // Each job of a group commit runs in its own savepoint, whose journal SQLite spills to a temporary
        // file past 64 KiB: a group of sends went through the kernel page by page, several times over (four
        // times as many writes as the WAL got). In memory, the journal costs a copy of each page touched.
        try db.execute(sql: "PRAGMA temp_store = MEMORY")
        // Checkpoints run on their own connection (WALCheckpointer), not inside a commit.
        try db.execute(sql: "PRAGMA wal_autocheckpoint = 0")
        if let maximumSize {
            // A limit below the current size means "no growth": clamp it, as SQLite would.
            let pageSize = try Int64.fetchOne(db, sql: "PRAGMA page_size") ?? 4096
            let pageCount = try Int64.fetchOne(db, sql: "PRAGMA page_count") ?? 0
            try db.execute(sql: "PRAGMA max_page_count = \(max(1, pageCount, maximumSize / pageSize))")
        }
    }

    public func close() async throws {
        guard !writer.isClosed else { return }
        await writer.close()
        do {
            try await checkpointer.close()
            try pool.close()
        } catch {
            throw StoreError.mapping(error)
        }
    }

    /// A write that returns once its group commit is durable.
    func write<T: Sendable>(_ operation: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await writer.write(operation)
    }

    /// A read on a snapshot of the last commit.
    func read<T: Sendable>(_ operation: @escaping @Sendable (Database) throws -> T) async throws -> T {
        if writer.isClosed {
            throw StoreError(code: .closed)
        }
        do {
            return try await pool.read(operation)
        } catch {
            throw StoreError.mapping(error)
        }
    }

    public func message(id: Int64) async throws -> OutboundMessage? {
        try await read { db in try MessageRow.fetch(db, id: id) }
    }

    public func counts() async throws -> [BotCounts] {
        try await read { db in
            var byBot: [String: BotCounts] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT bot, status, n FROM bot_status_count") {
                let bot: String = row[0]
                let n: Int = row[2]
                try byBot[bot, default: BotCounts(bot: bot)].add(n, status: row[1])
            }
            let oldest = try db.cachedStatement(sql: """
                SELECT created_at FROM message WHERE bot = ? AND status IN \(SQLiteSchema.pending)
                ORDER BY created_at LIMIT 1
                """)
            for (bot, var counts) in byBot where counts.pending > 0 {
                counts.oldestPending = try Int64.fetchOne(oldest, arguments: [bot]).map { Date(storeMillis: $0) }
                byBot[bot] = counts
            }
            return byBot.values.sorted { $0.bot < $1.bot }
        }
    }

    private static func seconds(_ duration: Duration) -> TimeInterval {
        let (seconds, attoseconds) = duration.components
        return TimeInterval(seconds) + TimeInterval(attoseconds) / 1e18
    }
}
