import Foundation
import GRDB
import TGRelayCore

/// Chat state: group-to-supergroup migrations and chats the bot may no longer write to.
extension SQLiteMessageStore {
    public func migrateChat(bot: String, from: String, to: String, now: Date) async throws {
        guard from != to else { return }
        let nowMillis = now.storeMillis
        try await write { db in
            // Seqs are kept: they are global, so the moved messages merge into `to` in accept order. The
            // lane triggers move the pending count from one lane to the other.
            try db.executeCached(
                sql: """
                    UPDATE message SET chat = ?, updated_at = ?
                    WHERE bot = ? AND chat = ? AND status IN \(SQLiteSchema.pending)
                    """,
                arguments: [to, nowMillis, bot, from])
            try db.executeCached(
                sql: """
                    INSERT INTO chat_migration (bot, from_chat, to_chat, migrated_at) VALUES (?, ?, ?, ?)
                    ON CONFLICT (bot, from_chat) DO UPDATE SET to_chat = excluded.to_chat, migrated_at = excluded.migrated_at
                    """,
                arguments: [bot, from, to, nowMillis])
            // Chains (A → B, then B → C) are shortened to single steps, so a lookup is one probe.
            try db.executeCached(
                sql: "UPDATE chat_migration SET to_chat = ? WHERE bot = ? AND to_chat = ?", arguments: [to, bot, from])
            try db.executeCached(sql: "DELETE FROM chat_migration WHERE bot = ? AND from_chat = to_chat", arguments: [bot])
        }
    }

    public func chatMigration(bot: String, chat: String) async throws -> String? {
        try await read { db in
            try String.fetchOne(
                db, sql: "SELECT to_chat FROM chat_migration WHERE bot = ? AND from_chat = ?", arguments: [bot, chat])
        }
    }

    public func setChatInactive(bot: String, chat: String, reason: String, now: Date) async throws {
        let nowMillis = now.storeMillis
        try await write { db in
            // A repeated 403 refreshes the reason but keeps the time the chat first went inactive.
            try db.executeCached(
                sql: """
                    INSERT INTO inactive_chat (bot, chat, reason, since) VALUES (?, ?, ?, ?)
                    ON CONFLICT (bot, chat) DO UPDATE SET reason = excluded.reason
                    """,
                arguments: [bot, chat, reason, nowMillis])
        }
    }

    public func reactivateChat(bot: String, chat: String) async throws {
        try await write { db in
            try db.executeCached(sql: "DELETE FROM inactive_chat WHERE bot = ? AND chat = ?", arguments: [bot, chat])
        }
    }

    public func inactiveReason(bot: String, chat: String) async throws -> String? {
        try await read { db in
            try String.fetchOne(
                db, sql: "SELECT reason FROM inactive_chat WHERE bot = ? AND chat = ?", arguments: [bot, chat])
        }
    }

    public func inactiveChats(bot: String?) async throws -> [InactiveChat] {
        try await read { db in
            let rows: [Row]
            if let bot {
                rows = try Row.fetchAll(
                    db, sql: "SELECT bot, chat, reason, since FROM inactive_chat WHERE bot = ? ORDER BY chat",
                    arguments: [bot])
            } else {
                rows = try Row.fetchAll(db, sql: "SELECT bot, chat, reason, since FROM inactive_chat ORDER BY bot, chat")
            }
            return rows.map { InactiveChat(bot: $0[0], chat: $0[1], reason: $0[2], since: Date(storeMillis: $0[3])) }
        }
    }
}
