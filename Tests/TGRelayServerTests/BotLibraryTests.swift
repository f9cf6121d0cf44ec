import FakeTelegram
import Foundation
import Testing

/// Real bot libraries from PyPI, pointed at the relay by their base-URL setting, against the simulator
/// with Telegram's limits: python-telegram-bot 22, aiogram 3 and pyTelegramBotAPI.
@Suite(.serialized)
struct BotLibraryTests {
    static let libraries = ["ptb", "aiogram", "telebot"]

    @Test(arguments: libraries)
    func sendsUploadsEditsDeletesAndPollsThroughTheRelay(library: String) async throws {
        let bed = try await TestBed()
        defer { Task { try await bed.shutdown() } }
        _ = try bed.telegram.injectMessage(bot: TestBed.botID, chatID: 42, text: "hello \(library)")

        let result = try await BotLibraryScript.run(library, "basics", bed: bed).result
        #expect(result["edited_text"] as? String == "edited by \(library)")
        #expect(result["edited_id"] as? Int == result["text_id"] as? Int)
        #expect(result["deleted"] as? Bool == true)
        #expect((result["photo_sizes"] as? Int ?? 0) >= 1)
        #expect(result["updates"] as? [String] == ["hello \(library)"])

        // Each call reached Telegram exactly once, the photo as an upload (aiogram names the part
        // `attach://<random>`, the others `photo`).
        let sent = bed.recordedSends.filter { $0.chatID == 42 }
        #expect(sent.map(\.method) == ["sendMessage", "sendPhoto"])
        let calls = bed.telegram.stats().requestsByMethod
        #expect(calls["editMessageText"] == 1 && calls["deleteMessage"] == 1, "\(calls)")
        let photo = try #require(sent.first { $0.method == "sendPhoto" })
        let files = photo.params.objectValue?.values.compactMap { $0["file_size"]?.intValue } ?? []
        #expect(files == [70], "\(photo.params)")
        #expect(photo.params["caption"]?.stringValue == "photo from \(library)")
        #expect(bed.telegram.stats().duplicatePayloads == 0)
        #expect(bed.telegram.stats().limitViolations == 0)
    }

    /// With inbound updates on, each library's own polling loop reads updates from the relay's inbox and
    /// confirms them with its offset: the first run handles the five waiting updates once, in order; whatever
    /// the library confirmed never comes back, across a SIGKILL of the relay, and a second run gets exactly
    /// what it left unconfirmed followed by the updates that arrived while the relay was down.
    @Test(arguments: libraries)
    func pollsUpdatesFromTheRelaysInboxWithTelegramsOffsetSemantics(library: String) async throws {
        let bed = try await TestBed(config: Inbound.config())
        defer { Task { try await bed.shutdown() } }
        let first = (0..<5).map { "first \(library) \($0)" }
        for text in first { _ = try bed.telegram.injectMessage(bot: TestBed.botID, chatID: 42, text: text) }

        let run1 = try await BotLibraryScript.run(library, "polling", bed: bed, arguments: ["--count", "5"]).result
        #expect(run1["texts"] as? [String] == first, "each update once, in update_id order")
        let unconfirmed = try #require(try await bed.inboxStatus()["unconfirmed"] as? Int)
        if library == "ptb" { #expect(unconfirmed == 0, "PTB confirms what it fetched when it stops") }

        bed.relay.kill9()
        let second = (0..<3).map { "second \(library) \($0)" }
        for text in second { _ = try bed.telegram.injectMessage(bot: TestBed.botID, chatID: 42, text: text) }
        try await bed.relay.start(http: bed.http)
        let expected = Array(first.suffix(unconfirmed)) + second
        let run2 = try await BotLibraryScript.run(library, "polling", bed: bed, arguments: ["--count", "\(expected.count)"]).result
        #expect(run2["texts"] as? [String] == expected, "only what the library left unconfirmed comes back (\(unconfirmed))")
        #expect(bed.telegram.pendingUpdates(bot: TestBed.botID).isEmpty, "the relay confirmed to Telegram everything it stored")
        #expect(try await bed.inboxStatus()["stored"] as? Int == 8)
    }

    /// Telegram is down for a while: each send waits its share, answers 429 with the relay's estimate, and
    /// the library's resend attaches to the queued message, so each is delivered once, in order.
    @Test(arguments: libraries)
    func libraryRetriesThroughAnOutageDeliverEachMessageOnce(library: String) async throws {
        let bed = try await TestBed()
        defer { Task { try await bed.shutdown() } }
        var outage = FakeFault(kind: .outage)
        outage.duration = 6
        // The bot is up (PTB's initialize called getMe) when Telegram goes down.
        let result = try await BotLibraryScript.run(
            library, "retries", bed: bed, arguments: ["--chat", "77", "--count", "3"],
            whenReady: { _ = try bed.telegram.addFault(outage) }
        ).result
        #expect((result["retry_after"] as? Int ?? 0) >= 1, "the outage outlasted the wait: the library saw the relay's 429")
        #expect(bed.deliveredTexts(chat: "77") == (0..<3).map { "retries \(library) \($0)" })
        #expect((result["ids"] as? [Int])?.count == 3)
        #expect(bed.telegram.stats().duplicatePayloads == 0)
    }

    /// A simple bot sending 1,000 messages to 50 chats one after another, without PTB's rate limiter: the
    /// relay paces them within Telegram's limits, and each send's answer comes before PTB's read timeout.
    @Test func thousandSequentialSendsFromPTBWithoutItsRateLimiter() async throws {
        let bed = try await TestBed()
        defer { Task { try await bed.shutdown() } }
        let result = try await BotLibraryScript.run(
            "ptb", "sequential", bed: bed, arguments: ["--chat", "1001", "--chats", "50", "--count", "1000"]).result
        #expect(result["delivered"] as? Int == 1000)
        #expect(result["other_errors"] as? Int == 0, "\(result["errors"] ?? "")")
        #expect(result["retry_after"] as? Int == 0, "no 429 reaches a sequential sender")
        try expectFlood(bed, chats: 50, count: 1000, inSendOrder: true)
        print("sequential: \(result["seconds"] ?? "?") s")
    }

    /// The same 1,000 messages all at once (asyncio.gather): the library sees only the relay's own 429s, and
    /// Telegram still sees no limit violation; each message is delivered once, in the relay's accept order.
    @Test func thousandConcurrentSendsFromPTBWithoutItsRateLimiter() async throws {
        let bed = try await TestBed()
        defer { Task { try await bed.shutdown() } }
        let result = try await BotLibraryScript.run(
            "ptb", "gather", bed: bed, arguments: ["--chat", "1001", "--chats", "50", "--count", "1000"]).result
        #expect(result["delivered"] as? Int == 1000)
        #expect(result["other_errors"] as? Int == 0, "\(result["errors"] ?? "")")
        try expectFlood(bed, chats: 50, count: 1000, inSendOrder: false)
        print("gather: \(result["seconds"] ?? "?") s, \(result["retry_after"] ?? "?") relay 429s")
    }

    /// Every text delivered once, no limit violated; per chat in send order (sequential) or in the order the
    /// relay accepted them (concurrent: the order requests arrived in).
    private func expectFlood(_ bed: TestBed, chats: Int, count: Int, inSendOrder: Bool) throws {
        let stats = bed.telegram.stats()
        #expect(stats.limitViolations == 0)
        #expect(stats.duplicatePayloads == 0)
        let acceptOrder = try acceptedTexts(bed)
        var delivered = 0
        for offset in 0..<chats {
            let chat = String(1001 + offset)
            let texts = bed.deliveredTexts(chat: chat)
            delivered += texts.count
            let expected = inSendOrder
                ? Array(stride(from: offset, to: count, by: chats)).map { "flood \($0)" }
                : acceptOrder.filter { $0.chat == chat }.map(\.text)
            #expect(texts == expected, "chat \(chat)")
        }
        #expect(delivered == count)
    }

    /// (chat, text) of every accepted message in accept order, read from the relay's store file.
    private func acceptedTexts(_ bed: TestBed) throws -> [(chat: String, text: String)] {
        let query = "import sqlite3,sys\nfor row in sqlite3.connect(sys.argv[1]).execute(sys.argv[2]): print(row[0])"
        let output = try runProcess(
            "/usr/bin/env", ["python3", "-c", query, bed.relay.databasePath, "SELECT chat || '|' || json_extract(params, '$.text') FROM message ORDER BY seq"])
        return output.output.split(separator: "\n").compactMap { line in
            let parts = line.split(separator: "|", maxSplits: 1)
            return parts.count == 2 ? (String(parts[0]), String(parts[1])) : nil
        }
    }
}
