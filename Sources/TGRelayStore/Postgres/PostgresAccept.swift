import Logging
import Foundation
import PostgresNIO
import TGRelayCore

extension PostgresMessageStore {
    public func accept(_ messages: [NewMessage], now: Date) async throws -> [AcceptResult] {
        guard !messages.isEmpty else { return [] }
        let nowMillis = now.storeMillis
        return try await transaction { [logger] connection in
            try await PostgresAccept(messages: messages, nowMillis: nowMillis, connection: connection, logger: logger).run()
        }
    }
}

/// One accept transaction. Idempotency keys are looked up first; inserts use `ON CONFLICT DO NOTHING` on the
/// unique (bot, key) index, so a concurrent accept of the same key on another node makes this insert wait
/// for that transaction and then resolve to its row, never to a second message.
struct PostgresAccept {
    /// Rows per INSERT statement, so that one statement's arrays stay a few hundred kilobytes.
    static let rowsPerStatement = 1000

    let messages: [NewMessage]
    let nowMillis: Int64
    let connection: PostgresConnection
    let logger: Logger

    private struct Key: Hashable {
        var bot: String
        var key: String
    }

    private enum Plan {
        case insert
        case resolved(AcceptResult)
        /// Same bot and key as an earlier message of this call, at this index.
        case duplicate(of: Int)
    }

    func run() async throws -> [AcceptResult] {
        var byKey = try await existingByKey()
        var plans: [Plan] = []
        var firstWithKey: [Key: Int] = [:]
        for (index, message) in messages.enumerated() {
            guard let key = message.idempotencyKey.map({ Key(bot: message.bot, key: $0) }) else {
                if let window = message.dedupWindow, let existing = try await recent(message, window: window) {
                    plans.append(.resolved(.existing(existing)))
                } else {
                    plans.append(.insert)
                }
                continue
            }
            if let existing = byKey[key] {
                plans.append(.resolved(Self.resolve(message, against: existing)))
            } else if let first = firstWithKey[key] {
                plans.append(.duplicate(of: first))
            } else {
                firstWithKey[key] = index
                plans.append(.insert)
            }
        }

        let toInsert = plans.indices.filter { if case .insert = plans[$0] { true } else { false } }
        let seqs = try await reserveSeqs(toInsert.count)
        var created: [Int: OutboundMessage] = [:]
        for start in stride(from: 0, to: toInsert.count, by: Self.rowsPerStatement) {
            let chunk = Array(toInsert[start..<min(start + Self.rowsPerStatement, toInsert.count)])
            let chunkSeqs = Array(seqs[start..<start + chunk.count])
            for (index, message) in try await insert(chunk, seqs: chunkSeqs) {
                created[index] = message
            }
        }
        for index in toInsert {
            if let message = created[index] {
                try await storeProxyRows(messages[index], id: message.id)
            }
        }
        try await PostgresMessageStore.insertFallbacks(
            toInsert.compactMap { index in
                guard let message = created[index], messages[index].fallback != nil else { return nil }
                return (message.id, messages[index])
            },
            connection, logger: logger)
        try await PostgresLaneFeed.notify(created.values.map { LaneKey(bot: $0.bot, chat: $0.chat) }, connection, logger: logger)
        // An insert that did nothing lost a race with a concurrent accept of the same key: take its row.
        for index in toInsert where created[index] == nil {
            let message = messages[index]
            let key = Key(bot: message.bot, key: message.idempotencyKey ?? "")
            guard let existing = try await fetch(key) else {
                throw StoreError(code: .internalError, detail: "idempotency conflict without a row")
            }
            byKey[key] = existing
            plans[index] = .resolved(Self.resolve(message, against: existing))
        }
        return try plans.indices.map { index in
            switch plans[index] {
            case .insert: return .created(created[index]!)
            case .resolved(let result): return result
            case .duplicate(let first):
                let message = messages[index]
                let key = Key(bot: message.bot, key: message.idempotencyKey ?? "")
                guard let original = created[first] ?? byKey[key] else {
                    throw StoreError(code: .internalError, detail: "duplicate without an original")
                }
                return Self.resolve(message, against: original)
            }
        }
    }

    private static func resolve(_ message: NewMessage, against existing: OutboundMessage) -> AcceptResult {
        existing.payloadHash == message.payloadHash ? .existing(existing) : .conflict(existingID: existing.id)
    }

    private func existingByKey() async throws -> [Key: OutboundMessage] {
        let keyed = Set(messages.compactMap { message in message.idempotencyKey.map { Key(bot: message.bot, key: $0) } })
        guard !keyed.isEmpty else { return [:] }
        let rows = try await connection.query(
            """
            SELECT \(unescaped: PostgresRows.messageColumns) FROM message
            WHERE (bot, idempotency_key) IN (SELECT * FROM unnest(\(keyed.map(\.bot)), \(keyed.map(\.key))))
            """, logger: logger
        ).all()
        var found: [Key: OutboundMessage] = [:]
        for row in rows {
            let message = try PostgresRows.message(row)
            found[Key(bot: message.bot, key: message.idempotencyKey ?? "")] = message
        }
        return found
    }

    private func fetch(_ key: Key) async throws -> OutboundMessage? {
        try await connection.query(
            "SELECT \(unescaped: PostgresRows.messageColumns) FROM message WHERE bot = \(key.bot) AND idempotency_key = \(key.key)",
            logger: logger
        ).all().first.map(PostgresRows.message)
    }

    /// The latest message with this payload, if it is still pending or became final within `window` seconds.
    private func recent(_ message: NewMessage, window: TimeInterval) async throws -> OutboundMessage? {
        guard let existing = try await connection.query(
            """
            SELECT \(unescaped: PostgresRows.messageColumns) FROM message
            WHERE id = (SELECT message_id FROM proxy_payload WHERE bot = \(message.bot) AND payload_hash = \(message.payloadHash))
            """, logger: logger
        ).all().first.map(PostgresRows.message) else { return nil }
        let cutoff = nowMillis - Int64(window * 1000)
        return !existing.status.isFinal || existing.updatedAt.storeMillis >= cutoff ? existing : nil
    }

    /// Uploaded files and the proxy's payload index, after the message row is inserted.
    private func storeProxyRows(_ message: NewMessage, id: Int64) async throws {
        for upload in message.uploads {
            try await connection.query(
                """
                INSERT INTO message_upload (message_id, field, file_name, content_type, data)
                VALUES (\(id), \(upload.field), \(upload.fileName), \(upload.contentType), \(ByteBuffer(bytes: upload.data)))
                """, logger: logger)
        }
        if message.dedupWindow != nil {
            try await connection.query(
                """
                INSERT INTO proxy_payload (bot, payload_hash, message_id) VALUES (\(message.bot), \(message.payloadHash), \(id))
                ON CONFLICT (bot, payload_hash) DO UPDATE SET message_id = excluded.message_id
                """, logger: logger)
        }
    }

    /// Increasing lane-order values, one per message to insert.
    private func reserveSeqs(_ count: Int) async throws -> [Int64] {
        guard count > 0 else { return [] }
        let rows = try await connection.query(
            "SELECT nextval('message_seq') FROM generate_series(1, \(count)) ORDER BY 1", logger: logger
        ).all()
        return try rows.map { try $0.at(0) }
    }

    /// Inserts the messages at `indices` in one statement over column arrays (one round trip and a dozen
    /// binds per chunk, instead of a dozen binds per row); returns those inserted (a key conflict skips its
    /// row). Arrays cannot hold NULL here, so optional columns come with a presence array. The returned
    /// seq pairs each id with its message, whatever order the rows come back in.
    private func insert(_ indices: [Int], seqs: [Int64]) async throws -> [(Int, OutboundMessage)] {
        let rows = indices.map { messages[$0] }
        var binds = PostgresBindings(capacity: 15)
        binds.append(nowMillis)
        binds.append(seqs)
        binds.append(rows.map(\.bot))
        binds.append(rows.map(\.chat))
        binds.append(rows.map(\.method))
        binds.append(rows.map(\.params))
        binds.append(rows.map(\.payloadHash))
        binds.append(rows.map { $0.deadline != nil })
        binds.append(rows.map { $0.deadline?.storeMillis ?? 0 })
        binds.append(rows.map { $0.idempotencyKey != nil })
        binds.append(rows.map { $0.idempotencyKey ?? "" })
        binds.append(rows.map(\.atMostOnce))
        binds.append(rows.map { $0.callbackURL != nil })
        binds.append(rows.map { $0.callbackURL ?? "" })
        binds.append(rows.map { Int64($0.uploads.count) })
        let sql = """
            INSERT INTO message (seq, bot, chat, method, params, payload_hash, deadline, idempotency_key, at_most_once,
                callback_url, uploads, status, created_at, updated_at)
            SELECT r.seq, r.bot, r.chat, r.method, r.params, r.payload_hash, CASE WHEN r.has_deadline THEN r.deadline END,
                CASE WHEN r.has_key THEN r.key END, r.at_most_once, CASE WHEN r.has_callback THEN r.callback END,
                r.uploads, 'queued', $1, $1
            FROM unnest($2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::bool[], $9::bigint[],
                $10::bool[], $11::text[], $12::bool[], $13::bool[], $14::text[], $15::bigint[])
                AS r (seq, bot, chat, method, params, payload_hash, has_deadline, deadline, has_key, key, at_most_once,
                    has_callback, callback, uploads)
            ON CONFLICT (bot, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
            RETURNING seq, id
            """
        var idBySeq: [Int64: Int64] = [:]
        for row in try await connection.query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: logger).all() {
            idBySeq[try row.at(0)] = try row.at(1)
        }
        let now = Date(storeMillis: nowMillis)
        return indices.enumerated().compactMap { offset, index in
            guard let id = idBySeq[seqs[offset]] else { return nil }
            let message = messages[index]
            return (index, OutboundMessage(
                id: id, bot: message.bot, chat: message.chat, method: message.method, params: message.params,
                payloadHash: message.payloadHash, deadline: message.deadline.map { Date(storeMillis: $0.storeMillis) },
                idempotencyKey: message.idempotencyKey, atMostOnce: message.atMostOnce,
                callbackURL: message.callbackURL, createdAt: now, updatedAt: now, uploadCount: message.uploads.count))
        }
    }
}
