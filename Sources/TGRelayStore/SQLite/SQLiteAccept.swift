import Foundation
import GRDB
import TGRelayCore

extension SQLiteMessageStore {
    public func accept(_ messages: [NewMessage], now: Date) async throws -> [AcceptResult] {
        guard !messages.isEmpty else { return [] }
        let nowMillis = now.storeMillis
        if AcceptCoalescer.canMerge(messages) {
            return try await coalescer.accept(messages, nowMillis: nowMillis)
        }
        return try await write { db in try SQLiteAccept.run(messages, nowMillis: nowMillis, db) }
    }
}

/// Accept runs inside the writer's transaction, so the idempotency lookup and the insert cannot race with
/// another accept: concurrent identical requests find each other's rows, whether they share the group commit
/// or not. Duplicates within one call are matched in memory against the call's first message with the key.
enum SQLiteAccept {
    /// Rows per INSERT statement: one statement costs about as much as several rows, so batches go in chunks.
    static let rowsPerStatement = 64
    private static let columns = """
        seq, bot, chat, method, params, payload_hash, status, deadline, idempotency_key, at_most_once, \
        callback_url, created_at, updated_at, uploads
        """

    private enum Plan {
        case insert
        case resolved(AcceptResult)
        /// Same bot and key as an earlier message of this call, at this index, which is being inserted.
        case duplicate(of: Int)
    }

    private struct Key: Hashable {
        var bot: String
        var key: String
    }

    static func run(_ messages: [NewMessage], nowMillis: Int64, _ db: Database) throws -> [AcceptResult] {
        let firstSeq = try MessageSequence.reserve(db, count: messages.count)
        let plans = try plan(messages, nowMillis: nowMillis, db)
        let toInsert = plans.indices.filter { if case .insert = plans[$0] { true } else { false } }

        var ids: [Int64: Int64] = [:]  // seq → id
        ids.reserveCapacity(toInsert.count)
        var start = 0
        while start < toInsert.count {
            let chunk = toInsert[start..<min(start + rowsPerStatement, toInsert.count)]
            let values = chunk.flatMap { index in
                row(messages[index], seq: firstSeq + Int64(index), nowMillis: nowMillis)
            }
            // RETURNING pairs each id with its seq, whatever order SQLite returns the rows in.
            let placeholders = Array(repeating: "(?, ?, ?, ?, ?, ?, 'queued', ?, ?, ?, ?, ?, ?, ?)", count: chunk.count)
            try DirectInsert(
                db,
                sql: "INSERT INTO message (\(columns)) VALUES \(placeholders.joined(separator: ", ")) RETURNING seq, id"
            ).run(values) { row in ids[row.int64(0)] = row.int64(1) }
            start += rowsPerStatement
        }

        let now = Date(storeMillis: nowMillis)
        var created: [Int: OutboundMessage] = [:]
        var laneCounts: [LaneKey: Int] = [:]
        for index in toInsert {
            let message = messages[index]
            guard let id = ids[firstSeq + Int64(index)] else {
                throw StoreError(code: .internalError, detail: "inserted row without id")
            }
            created[index] = OutboundMessage(
                id: id, bot: message.bot, chat: message.chat, method: message.method, params: message.params,
                payloadHash: message.payloadHash, deadline: message.deadline.map { Date(storeMillis: $0.storeMillis) },
                idempotencyKey: message.idempotencyKey, atMostOnce: message.atMostOnce,
                callbackURL: message.callbackURL, createdAt: now, updatedAt: now, uploadCount: message.uploads.count)
            try SQLiteProxyRows.stored(message, id: id, db)
            laneCounts[LaneKey(bot: message.bot, chat: message.chat), default: 0] += 1
        }
        try addCounts(laneCounts, db)
        try SQLiteMessageStore.insertFallbacks(
            toInsert.compactMap { index in messages[index].fallback == nil ? nil : (created[index]!.id, messages[index]) }, db)

        return plans.indices.map { index in
            switch plans[index] {
            case .insert: return .created(created[index]!)
            case .resolved(let result): return result
            case .duplicate(let first):
                let original = created[first]!
                return original.payloadHash == messages[index].payloadHash
                    ? .existing(original) : .conflict(existingID: original.id)
            }
        }
    }

    private static func plan(_ messages: [NewMessage], nowMillis: Int64, _ db: Database) throws -> [Plan] {
        let findKey = try db.cachedStatement(
            sql: "SELECT \(MessageRow.sqliteColumns) FROM message WHERE bot = ? AND idempotency_key = ?")
        var firstWithKey: [Key: Int] = [:]
        return try messages.indices.map { index in
            let message = messages[index]
            guard let key = message.idempotencyKey else {
                if let window = message.dedupWindow,
                    let existing = try SQLiteProxyRows.recent(bot: message.bot, payloadHash: message.payloadHash, window: window, nowMillis: nowMillis, db)
                {
                    return .resolved(.existing(existing))
                }
                return .insert
            }
            if let first = firstWithKey[Key(bot: message.bot, key: key)] {
                return .duplicate(of: first)
            }
            if let row = try Row.fetchOne(findKey, arguments: [message.bot, key]) {
                let existing = try MessageRow.decode(row)
                return .resolved(
                    existing.payloadHash == message.payloadHash ? .existing(existing) : .conflict(existingID: existing.id))
            }
            firstWithKey[Key(bot: message.bot, key: key)] = index
            return .insert
        }
    }

    private static func row(_ message: NewMessage, seq: Int64, nowMillis: Int64) -> [DirectInsert.Value] {
        [
            .integer(seq), .text(message.bot), .text(message.chat), .text(message.method), .text(message.params),
            .text(message.payloadHash), .init(message.deadline?.storeMillis), .init(message.idempotencyKey),
            .init(message.atMostOnce), .init(message.callbackURL), .integer(nowMillis), .integer(nowMillis),
            .integer(Int64(message.uploads.count)),
        ]
    }

    /// What an insert trigger would do, once per lane and per bot: `lane` and `bot_status_count` (see
    /// `SQLiteSchema`) count the new queued messages.
    private static func addCounts(_ laneCounts: [LaneKey: Int], _ db: Database) throws {
        var botCounts: [String: Int] = [:]
        for (lane, count) in laneCounts {
            botCounts[lane.bot, default: 0] += count
            try db.executeCached(
                sql: """
                    INSERT INTO lane (bot, chat, pending) VALUES (?, ?, ?)
                    ON CONFLICT (bot, chat) DO UPDATE SET pending = pending + excluded.pending
                    """,
                arguments: [lane.bot, lane.chat, count])
        }
        for (bot, count) in botCounts {
            try db.executeCached(
                sql: """
                    INSERT INTO bot_status_count (bot, status, n) VALUES (?, 'queued', ?)
                    ON CONFLICT (bot, status) DO UPDATE SET n = n + excluded.n
                    """,
                arguments: [bot, count])
        }
    }
}
