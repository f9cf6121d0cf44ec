import Foundation
import GRDB
import TGRelayCore

extension SQLiteMessageStore {
    public func uploads(messageID: Int64) async throws -> [FileUpload] {
        try await read { db in
            try Row.fetchAll(
                db, sql: "SELECT field, file_name, content_type, data FROM message_upload WHERE message_id = ? ORDER BY id",
                arguments: [messageID]
            ).map { row in
                let data: Data = row[3]
                return FileUpload(field: row[0], fileName: row[1], contentType: row[2], data: Array(data))
            }
        }
    }
}

/// The rows the Bot API proxy adds to an accept: uploaded files and the payload index (see `SQLiteSchema`).
enum SQLiteProxyRows {
    /// After the message row is inserted, in the same transaction.
    static func stored(_ message: NewMessage, id: Int64, _ db: Database) throws {
        for upload in message.uploads {
            try db.executeCached(
                sql: "INSERT INTO message_upload (message_id, field, file_name, content_type, data) VALUES (?, ?, ?, ?, ?)",
                arguments: [id, upload.field, upload.fileName, upload.contentType, Data(upload.data)])
        }
        if message.dedupWindow != nil {
            try db.executeCached(
                sql: """
                    INSERT INTO proxy_payload (bot, payload_hash, message_id) VALUES (?, ?, ?)
                    ON CONFLICT (bot, payload_hash) DO UPDATE SET message_id = excluded.message_id
                    """,
                arguments: [message.bot, message.payloadHash, id])
        }
    }

    /// The latest message with this payload, if it is still pending or became final within `window` seconds.
    static func recent(bot: String, payloadHash: String, window: TimeInterval, nowMillis: Int64, _ db: Database) throws -> OutboundMessage? {
        let statement = try db.cachedStatement(sql: """
            SELECT \(MessageRow.sqliteColumns) FROM message
            WHERE id = (SELECT message_id FROM proxy_payload WHERE bot = ? AND payload_hash = ?)
            """)
        guard let row = try Row.fetchOne(statement, arguments: [bot, payloadHash]) else { return nil }
        let message = try MessageRow.decode(row)
        let cutoff = nowMillis - Int64(window * 1000)
        return !message.status.isFinal || message.updatedAt.storeMillis >= cutoff ? message : nil
    }
}
