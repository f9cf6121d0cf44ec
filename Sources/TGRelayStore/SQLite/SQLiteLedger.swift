import Foundation
import GRDB
import TGRelayCore

extension SQLiteMessageStore {
    public func ledger(_ query: LedgerQuery) async throws -> [LedgerEntry] {
        let chat = query.chat.map { LedgerHash.keyedChat($0, key: ledgerChatKey) }
        return try await read { db in
            var conditions: [String] = []
            var arguments = StatementArguments()
            func add(_ condition: String, _ value: (any DatabaseValueConvertible)?) {
                guard let value else { return }
                conditions.append(condition)
                arguments += [value]
            }
            add("message_id = ?", query.messageID)
            add("chat = ?", chat)
            add("bot = ?", query.bot)
            add("at >= ?", query.since?.storeMillis)
            add("at < ?", query.until?.storeMillis)
            add("seq > ?", query.afterSeq)
            let whereClause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
            arguments += [max(0, query.limit)]
            return try Row.fetchAll(
                db, sql: "SELECT \(SQLiteLedger.columns) FROM ledger \(whereClause) ORDER BY seq LIMIT ?",
                arguments: arguments
            ).map(SQLiteLedger.decode)
        }
    }

    public func verifyLedger() async throws -> LedgerVerification {
        try await read { db in
            let chain = try SQLiteLedger.chain(db)
            return try SQLiteLedger.verify(db, from: chain.anchor, through: chain.head.seq, expectedHead: chain.head)
        }
    }

    public func pruneLedger(before: Date) async throws -> Int {
        let cutoff = before.storeMillis
        return try await write { db in
            let chain = try SQLiteLedger.chain(db)
            // Keep every row from the first one at or after the cutoff: the deleted part is a prefix in seq
            // order even if `at` is not perfectly monotonic.
            let firstKept = try Int64.fetchOne(db, sql: "SELECT min(seq) FROM ledger WHERE at >= ?", arguments: [cutoff])
            let lastPruned = (firstKept ?? chain.head.seq + 1) - 1
            guard lastPruned > chain.anchor.seq else { return 0 }
            guard case .valid = try SQLiteLedger.verify(db, from: chain.anchor, through: lastPruned, expectedHead: nil),
                  let anchorHash = try String.fetchOne(db, sql: "SELECT hash FROM ledger WHERE seq = ?", arguments: [lastPruned])
            else {
                throw StoreError(code: .ledgerBroken, detail: "rows to prune do not verify")
            }
            try db.executeCached(sql: "DELETE FROM ledger WHERE seq <= ?", arguments: [lastPruned])
            let deleted = db.changesCount
            try db.executeCached(
                sql: "UPDATE ledger_chain SET anchor_seq = ?, anchor_hash = ?", arguments: [lastPruned, anchorHash])
            return deleted
        }
    }
}

/// The ledger table and its hash chain (see `LedgerHash` for the encoding).
enum SQLiteLedger {
    static let columns = """
        seq, at, message_id, bot, chat, method, payload_hash, endpoint, http_status, ok, error_code, description, \
        retry_after, telegram_message_ids, duration_us, response_body, outcome, ambiguous, prev_hash, hash
        """

    static func chain(_ db: Database) throws -> (anchor: LedgerLink, head: LedgerLink) {
        guard let row = try Row.fetchOne(
            db.cachedStatement(sql: "SELECT anchor_seq, anchor_hash, head_seq, head_hash FROM ledger_chain WHERE id = 1"))
        else {
            throw StoreError(code: .corrupt, detail: "ledger chain state missing")
        }
        return (LedgerLink(seq: row[0], hash: row[1]), LedgerLink(seq: row[2], hash: row[3]))
    }

    /// Appends the attempt's row, linked to `head`, and returns the new head; bot, chat, method and payload
    /// hash come from the message row (already updated by the caller in the same transaction). The caller
    /// stores the final head (`setHead`) once after a run of appends.
    static func append(_ attempt: AttemptRecord, chatKey: [UInt8]?, after head: LedgerLink, _ db: Database) throws -> LedgerLink {
        guard let message = try Row.fetchOne(
            db.cachedStatement(sql: "SELECT bot, chat, method, payload_hash FROM message WHERE id = ?"),
            arguments: [attempt.messageID])
        else {
            throw StoreError(code: .notFound, detail: "message \(attempt.messageID)")
        }
        let entry = LedgerEntry(
            appending: attempt, after: head, bot: message[0], chat: message[1], method: message[2],
            payloadHash: message[3], chatKey: chatKey)
        let insert = try db.cachedStatement(sql: """
            INSERT INTO ledger (\(columns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        try insert.execute(arguments: [
            entry.seq, entry.at.storeMillis, entry.messageID, entry.bot, entry.chat, entry.method, entry.payloadHash,
            entry.endpoint, entry.httpStatus, entry.ok, entry.errorCode, entry.description, entry.retryAfter,
            TelegramIDs.encode(entry.telegramMessageIDs), LedgerHash.durationMicros(entry.durationMs),
            entry.responseBody, entry.outcome, entry.ambiguous, entry.prevHash, entry.hash,
        ])
        return LedgerLink(seq: entry.seq, hash: entry.hash)
    }

    static func setHead(_ head: LedgerLink, _ db: Database) throws {
        try db.executeCached(sql: "UPDATE ledger_chain SET head_seq = ?, head_hash = ?", arguments: [head.seq, head.hash])
    }

    static func decode(_ row: Row) -> LedgerEntry {
        LedgerEntry(
            seq: row[0], at: Date(storeMillis: row[1]), messageID: row[2], bot: row[3], chat: row[4], method: row[5],
            payloadHash: row[6], endpoint: row[7], httpStatus: row[8], ok: row[9], errorCode: row[10],
            description: row[11], retryAfter: row[12], telegramMessageIDs: TelegramIDs.decode(row[13]),
            durationMs: Double(row[14] as Int64) / 1000, responseBody: row[15], outcome: row[16], ambiguous: row[17],
            prevHash: row[18], hash: row[19])
    }

    /// Walks the rows through a cursor (one row in memory at a time); see `LedgerChainWalk`.
    static func verify(
        _ db: Database, from anchor: LedgerLink, through last: Int64, expectedHead: LedgerLink?
    ) throws -> LedgerVerification {
        var walk = LedgerChainWalk(from: anchor, through: last, expectedHead: expectedHead)
        let cursor = try Row.fetchCursor(
            db, sql: "SELECT \(columns) FROM ledger WHERE seq <= ? ORDER BY seq", arguments: [walk.upperBound])
        while let row = try cursor.next() {
            if let broken = walk.check(decode(row)) {
                return broken
            }
        }
        return walk.finish()
    }
}
