import Foundation
import Logging
import TGRelayCore
import TGRelayStore
import TelegramBotAPI
import Testing

@testable import TGRelayServer

/// A node taking a bot over starts its rate limiter from the ledger's last minute: Telegram still counts
/// what the previous holder sent.
struct TakeoverLimitsTests {
    /// With `ledger.hash_chat_ids` the ledger names chats by keyed ids; a pending chat's recent send still
    /// counts against that chat's own limit.
    @Test(arguments: [false, true])
    func aChatsRecentSendHoldsItsNextSend(hashedChats: Bool) async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        var configuration = RelayConfiguration()
        configuration.bots = [.init(name: "default", token: "1:x")]
        if hashedChats { configuration.options.ledgerChatKey = Array("sixteen-bytes-or-more".utf8) }
        let store = try await makeStore(.sqlite(
            path: directory.appendingPathComponent("relay.sqlite").path,
            options: .init(ledgerChatKey: configuration.options.ledgerChatKey)))
        let now = Date()
        func message(_ text: String) -> NewMessage {
            NewMessage(bot: "default", chat: "42", method: "sendMessage", params: #"{"chat_id":42,"text":"\#(text)"}"#, payloadHash: text)
        }
        guard case .created(let sent) = try await store.accept([message("sent")], now: now.addingTimeInterval(-1)).first else {
            Issue.record("not stored")
            return
        }
        // Sent by the previous holder 0.3 s ago; the next message of the chat waits in the store.
        try await store.record([AttemptRecord(
            messageID: sent.id, at: now.addingTimeInterval(-0.3), endpoint: "https://api.telegram.org", method: "sendMessage",
            httpStatus: 200, ok: true, telegramMessageIDs: [5], durationMs: 20, responseBody: #"{"ok":true,"result":{}}"#,
            outcome: "delivered", newStatus: .delivered, countsAsAttempt: true, result: "{}")])
        _ = try await store.accept([message("next")], now: now)

        let dispatcher = Dispatcher(
            configuration: configuration, store: store, client: BotAPIClient(httpClient: .shared), logger: Logger(label: "test"))
        try await dispatcher.takeOver("default")
        let lane = LaneKey(bot: "default", chat: "42")
        let earliest = try #require(await dispatcher.bots["default"]?.limiter.earliestLaneSend(lane, now: now))
        #expect(earliest >= now.addingTimeInterval(0.6), "a private chat's next send waits a second after its last")
        await dispatcher.giveUp("default")
        try await store.close()
    }
}
