import Logging
import Foundation
import PostgresNIO
import TGRelayCore

/// Chat state: group-to-supergroup migrations and chats the bot may no longer write to.
extension PostgresMessageStore {
    public func migrateChat(bot: String, from: String, to: String, now: Date) async throws {
        guard from != to else { return }
        let nowMillis = now.storeMillis
        try await transaction { [logger] connection in
            // Seqs are kept, so the moved messages merge into `to` in accept order.
            try await connection.query(
                """
                UPDATE message SET chat = \(to), updated_at = \(nowMillis)
                WHERE bot = \(bot) AND chat = \(from) AND status IN \(unescaped: PostgresSchema.pending)
                """, logger: logger)
            try await connection.query(
                """
                INSERT INTO chat_migration (bot, from_chat, to_chat, migrated_at) VALUES (\(bot), \(from), \(to), \(nowMillis))
                ON CONFLICT (bot, from_chat) DO UPDATE SET to_chat = excluded.to_chat, migrated_at = excluded.migrated_at
                """, logger: logger)
            // Chains (A → B, then B → C) are shortened to single steps, so a lookup is one probe.
            try await connection.query(
                "UPDATE chat_migration SET to_chat = \(to) WHERE bot = \(bot) AND to_chat = \(from)", logger: logger)
            try await connection.query(
                "DELETE FROM chat_migration WHERE bot = \(bot) AND from_chat = to_chat", logger: logger)
        }
    }

    public func chatMigration(bot: String, chat: String) async throws -> String? {
        try await rows("SELECT to_chat FROM chat_migration WHERE bot = \(bot) AND from_chat = \(chat)").first?.at(0)
    }

    public func setChatInactive(bot: String, chat: String, reason: String, now: Date) async throws {
        // A repeated 403 refreshes the reason but keeps the time the chat first went inactive.
        try await rows("""
            INSERT INTO inactive_chat (bot, chat, reason, since) VALUES (\(bot), \(chat), \(reason), \(now.storeMillis))
            ON CONFLICT (bot, chat) DO UPDATE SET reason = excluded.reason
            """)
    }

    public func reactivateChat(bot: String, chat: String) async throws {
        try await rows("DELETE FROM inactive_chat WHERE bot = \(bot) AND chat = \(chat)")
    }

    public func inactiveReason(bot: String, chat: String) async throws -> String? {
        try await rows("SELECT reason FROM inactive_chat WHERE bot = \(bot) AND chat = \(chat)").first?.at(0)
    }

    public func inactiveChats(bot: String?) async throws -> [InactiveChat] {
        let rows: [PostgresRandomAccessRow]
        if let bot {
            rows = try await self.rows("SELECT bot, chat, reason, since FROM inactive_chat WHERE bot = \(bot) ORDER BY chat")
        } else {
            rows = try await self.rows("SELECT bot, chat, reason, since FROM inactive_chat ORDER BY bot, chat")
        }
        return try rows.map {
            InactiveChat(bot: try $0.at(0), chat: try $0.at(1), reason: try $0.at(2), since: Date(storeMillis: try $0.at(3)))
        }
    }
}
