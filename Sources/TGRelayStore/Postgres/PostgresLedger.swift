import Logging
import Foundation
import PostgresNIO
import TGRelayCore

extension PostgresMessageStore {
    public func ledger(_ query: LedgerQuery) async throws -> [LedgerEntry] {
        var conditions: [String] = []
        var binds = PostgresBindings()
        func add<Value: PostgresDynamicTypeEncodable>(_ condition: String, _ value: Value?) {
            guard let value else { return }
            binds.append(value)
            conditions.append(condition + " $\(binds.count)")
        }
        add("message_id =", query.messageID)
        add("chat =", query.chat.map { LedgerHash.keyedChat($0, key: ledgerChatKey) })
        add("bot =", query.bot)
        add("at >=", query.since?.storeMillis)
        add("at <", query.until?.storeMillis)
        add("seq >", query.afterSeq)
        binds.append(max(0, query.limit))
        let whereClause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        let sql = "SELECT \(SQLiteLedger.columns) FROM ledger \(whereClause) ORDER BY seq LIMIT $\(binds.count)"
        return try await rows(PostgresQuery(unsafeSQL: sql, binds: binds)).map(PostgresRows.ledgerEntry)
    }

    /// Reads the chain state and walks the rows in one snapshot, so appends by other nodes during the walk
    /// are not seen half-way.
    public func verifyLedger() async throws -> LedgerVerification {
        try await transaction(begin: "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", bounded: false) { [logger] connection in
            let chain = try await PostgresLedger.chain(connection, lock: false, logger: logger)
            return try await PostgresLedger.verify(
                connection, from: chain.anchor, through: chain.head.seq, expectedHead: chain.head, logger: logger)
        }
    }

    public func pruneLedger(before: Date) async throws -> Int {
        let cutoff = before.storeMillis
        return try await transaction(bounded: false) { [logger] connection in
            // The chain row stays locked until commit, so no node appends while the anchor moves.
            let chain = try await PostgresLedger.chain(connection, lock: true, logger: logger)
            // Keep every row from the first one at or after the cutoff: the deleted part is a prefix in seq order.
            let firstKept: Int64? = try await connection.query(
                "SELECT min(seq) FROM ledger WHERE at >= \(cutoff)", logger: logger
            ).all().first?.at(0)
            let lastPruned = (firstKept ?? chain.head.seq + 1) - 1
            guard lastPruned > chain.anchor.seq else { return 0 }
            let verdict = try await PostgresLedger.verify(
                connection, from: chain.anchor, through: lastPruned, expectedHead: nil, logger: logger)
            let anchorHash: String? = try await connection.query(
                "SELECT hash FROM ledger WHERE seq = \(lastPruned)", logger: logger
            ).all().first?.at(0)
            guard case .valid = verdict, let anchorHash else {
                throw StoreError(code: .ledgerBroken, detail: "rows to prune do not verify")
            }
            let deleted = try await connection.query(
                "DELETE FROM ledger WHERE seq <= \(lastPruned) RETURNING seq", logger: logger
            ).all().count
            try await connection.query(
                "UPDATE ledger_chain SET anchor_seq = \(lastPruned), anchor_hash = \(anchorHash)", logger: logger)
            return deleted
        }
    }
}

/// An attempt and the message fields its ledger row repeats.
struct LedgerRowSource: Sendable {
    var attempt: AttemptRecord
    var bot: String
    var chat: String
    var method: String
    var payloadHash: String
}

/// The ledger table and its hash chain on PostgreSQL (encoding in `LedgerHash`, checks in `LedgerChainWalk`).
enum PostgresLedger {
    static func chain(
        _ connection: PostgresConnection, lock: Bool, logger: Logger
    ) async throws -> (anchor: LedgerLink, head: LedgerLink) {
        let sql = "SELECT anchor_seq, anchor_hash, head_seq, head_hash FROM ledger_chain WHERE id = 1"
            + (lock ? " FOR UPDATE" : "")
        guard let row = try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger).all().first else {
            throw StoreError(code: .corrupt, detail: "ledger chain state missing")
        }
        return (LedgerLink(seq: try row.at(0), hash: try row.at(1)), LedgerLink(seq: try row.at(2), hash: try row.at(3)))
    }

    /// Appends the attempts' rows after the head, in order. Locking the chain row serializes appends across
    /// nodes: the next writer waits for this transaction and then reads the head it committed. The head is
    /// read and written once for the whole group.
    static func append(
        _ rows: [LedgerRowSource], chatKey: [UInt8]?, _ connection: PostgresConnection, logger: Logger
    ) async throws {
        var head = try await chain(connection, lock: true, logger: logger).head
        var entries = PostgresRecordSet(rows: rows.count)
        for row in rows {
            let entry = LedgerEntry(
                appending: row.attempt, after: head, bot: row.bot, chat: row.chat, method: row.method,
                payloadHash: row.payloadHash, chatKey: chatKey)
            entries.record { add(entry, to: &$0) }
            head = LedgerLink(seq: entry.seq, hash: entry.hash)
        }
        // One statement for the group: the rows as a `jsonb` record set.
        try await connection.query(
            """
            INSERT INTO ledger (\(unescaped: SQLiteLedger.columns))
            SELECT \(unescaped: SQLiteLedger.columns) FROM jsonb_to_recordset(\(entries.text)::jsonb) AS r (
                seq bigint, at bigint, message_id bigint, bot text, chat text, method text, payload_hash text, endpoint text,
                http_status integer, ok integer, error_code integer, description text, retry_after integer,
                telegram_message_ids text, duration_us bigint, response_body text, outcome text, ambiguous integer,
                prev_hash text, hash text)
            """, logger: logger)
        try await connection.query(
            "UPDATE ledger_chain SET head_seq = \(head.seq), head_hash = \(head.hash) WHERE id = 1", logger: logger)
    }

    private static func add(_ entry: LedgerEntry, to row: inout PostgresRecordSet) {
        row.add("seq", entry.seq)
        row.add("at", entry.at.storeMillis)
        row.add("message_id", entry.messageID)
        row.add("bot", entry.bot)
        row.add("chat", entry.chat)
        row.add("method", entry.method)
        row.add("payload_hash", entry.payloadHash)
        row.add("endpoint", entry.endpoint)
        row.add("http_status", entry.httpStatus)
        row.add("ok", entry.ok ? 1 : 0)
        row.add("error_code", entry.errorCode)
        row.add("description", entry.description)
        row.add("retry_after", entry.retryAfter)
        row.add("telegram_message_ids", TelegramIDs.encode(entry.telegramMessageIDs))
        row.add("duration_us", LedgerHash.durationMicros(entry.durationMs))
        row.add("response_body", entry.responseBody)
        row.add("outcome", entry.outcome)
        row.add("ambiguous", entry.ambiguous ? 1 : 0)
        row.add("prev_hash", entry.prevHash)
        row.add("hash", entry.hash)
    }

    /// Streams the rows (one in memory at a time) through `LedgerChainWalk`.
    static func verify(
        _ connection: PostgresConnection, from anchor: LedgerLink, through last: Int64, expectedHead: LedgerLink?,
        logger: Logger
    ) async throws -> LedgerVerification {
        var walk = LedgerChainWalk(from: anchor, through: last, expectedHead: expectedHead)
        let rows = try await connection.query(
            "SELECT \(unescaped: SQLiteLedger.columns) FROM ledger WHERE seq <= \(walk.upperBound) ORDER BY seq",
            logger: logger)
        for try await row in rows {
            if let broken = walk.check(try PostgresRows.ledgerEntry(row.makeRandomAccess())) {
                return broken
            }
        }
        return walk.finish()
    }
}
