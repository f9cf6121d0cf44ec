import FakeTelegram
import Foundation
import Testing

/// Bad input at `POST /v1/messages` and `/v1/messages/batch`: each answer names the exact status, code and
/// field, and nothing of a refused request reaches the store or Telegram.
@Suite(.serialized)
struct RESTValidationTests {
    /// One refused request: the body (a JSON value, or raw text when `raw` is set) and the expected error.
    struct Case: CustomStringConvertible {
        var name: String
        var body: Any?
        var raw: String?
        var status: Int
        var code: String
        var field: String?
        var path = "/messages"

        var description: String { name }
    }

    static let maxBody = 12_000

    static var cases: [Case] {
        let longText = String(repeating: "a", count: 4097)
        // 2049 emoji outside the BMP are 4098 UTF-16 units although only 2049 characters.
        let longEmoji = String(repeating: "😀", count: 2049)
        return [
            Case(name: "malformed JSON", raw: #"{"chat_id": 1, "text": "x""#, status: 400, code: "malformed_json"),
            Case(name: "empty body", raw: "", status: 400, code: "malformed_json"),
            Case(name: "array body", raw: #"[{"chat_id": 1, "text": "x"}]"#, status: 400, code: "malformed_json"),
            Case(name: "string body", raw: #""hello""#, status: 400, code: "malformed_json"),
            Case(name: "unknown bot", body: ["bot": "nobody", "chat_id": 1, "text": "x"], status: 404, code: "unknown_bot", field: "bot"),
            Case(name: "bot not a string", body: ["bot": 7, "chat_id": 1, "text": "x"], status: 400, code: "invalid_field", field: "bot"),
            Case(name: "unknown method", body: ["method": "sendTelegram", "params": ["chat_id": 1, "text": "x"]],
                 status: 400, code: "unknown_method", field: "method"),
            Case(name: "not a send method", body: ["method": "getMe", "params": ["chat_id": 1]],
                 status: 400, code: "not_a_send_method", field: "method"),
            Case(name: "params not an object", body: ["method": "sendMessage", "params": [1, 2]], status: 400, code: "invalid_field", field: "params"),
            Case(name: "missing chat_id", body: ["text": "x"], status: 400, code: "missing_field", field: "params.chat_id"),
            Case(name: "missing chat_id, full form", body: ["bot": "default", "method": "sendMessage", "params": ["text": "x"]],
                 status: 400, code: "missing_field", field: "params.chat_id"),
            Case(name: "chat_id not a number", body: ["chat_id": "abc", "text": "x"], status: 400, code: "invalid_chat_id", field: "params.chat_id"),
            Case(name: "chat_id zero", body: ["chat_id": 0, "text": "x"], status: 400, code: "invalid_chat_id", field: "params.chat_id"),
            Case(name: "chat_id fractional", body: ["chat_id": 1.5, "text": "x"], status: 400, code: "invalid_chat_id", field: "params.chat_id"),
            Case(name: "chat_id boolean", body: ["chat_id": true, "text": "x"], status: 400, code: "invalid_chat_id", field: "params.chat_id"),
            Case(name: "missing text", body: ["chat_id": 1], status: 400, code: "missing_field", field: "params.text"),
            Case(name: "empty text", body: ["chat_id": 1, "text": ""], status: 400, code: "empty_text", field: "params.text"),
            Case(name: "whitespace text", body: ["chat_id": 1, "text": " \n\t "], status: 400, code: "empty_text", field: "params.text"),
            Case(name: "text not a string", body: ["chat_id": 1, "text": 42], status: 400, code: "invalid_field", field: "params.text"),
            Case(name: "text of 4097", body: ["chat_id": 1, "text": longText], status: 400, code: "text_too_long", field: "params.text"),
            Case(name: "text of 4098 UTF-16 units", body: ["chat_id": 1, "text": longEmoji], status: 400, code: "text_too_long", field: "params.text"),
            Case(name: "caption of 1025", body: ["method": "sendPhoto", "params": ["chat_id": 1, "photo": "https://example.com/p.jpg",
                                                                                    "caption": String(repeating: "c", count: 1025)]],
                 status: 400, code: "caption_too_long", field: "params.caption"),
            Case(name: "negative ttl", body: ["chat_id": 1, "text": "x", "ttl_seconds": -5], status: 400, code: "invalid_field", field: "ttl_seconds"),
            Case(name: "zero ttl", body: ["chat_id": 1, "text": "x", "ttl_seconds": 0], status: 400, code: "invalid_field", field: "ttl_seconds"),
            Case(name: "ttl as text", body: ["chat_id": 1, "text": "x", "ttl_seconds": "60"], status: 400, code: "invalid_field", field: "ttl_seconds"),
            // Beyond any representable deadline: must be refused, not crash the relay converting it.
            Case(name: "huge ttl", raw: #"{"chat_id": 1, "text": "x", "ttl_seconds": 1e300}"#, status: 400, code: "invalid_field", field: "ttl_seconds"),
            Case(name: "huge deliver_by", raw: #"{"chat_id": 1, "text": "x", "deliver_by": 1e300}"#, status: 400, code: "invalid_field", field: "deliver_by"),
            Case(name: "ttl and deliver_by", body: ["chat_id": 1, "text": "x", "ttl_seconds": 60, "deliver_by": "2030-01-01T00:00:00Z"],
                 status: 400, code: "invalid_field", field: "deliver_by"),
            Case(name: "deliver_by not a time", body: ["chat_id": 1, "text": "x", "deliver_by": "tomorrow"], status: 400, code: "invalid_field", field: "deliver_by"),
            Case(name: "callback_url not http", body: ["chat_id": 1, "text": "x", "callback_url": "ftp://example.com/hook"],
                 status: 400, code: "invalid_field", field: "callback_url"),
            Case(name: "callback_url not a URL", body: ["chat_id": 1, "text": "x", "callback_url": "hook me"],
                 status: 400, code: "invalid_field", field: "callback_url"),
            Case(name: "callback_url without host", body: ["chat_id": 1, "text": "x", "callback_url": "http://"],
                 status: 400, code: "invalid_field", field: "callback_url"),
            Case(name: "at_most_once not boolean", body: ["chat_id": 1, "text": "x", "at_most_once": "yes"],
                 status: 400, code: "invalid_field", field: "at_most_once"),
            Case(name: "empty idempotency key", body: ["chat_id": 1, "text": "x", "idempotency_key": ""],
                 status: 400, code: "invalid_field", field: "idempotency_key"),
            Case(name: "body over max_body_bytes", body: ["chat_id": 1, "text": String(repeating: "b", count: maxBody + 100)],
                 status: 413, code: "body_too_large"),
            Case(name: "batch without messages", body: ["items": []], status: 400, code: "missing_field", field: "messages", path: "/messages/batch"),
            Case(name: "batch of 1001", body: ["messages": Array(repeating: ["chat_id": 1, "text": "x"], count: 1001)],
                 status: 413, code: "batch_too_large", field: "messages", path: "/messages/batch"),
            Case(name: "batch with a bad fourth item",
                 body: ["messages": [
                    ["chat_id": 1, "text": "one"], ["chat_id": 2, "text": "two"],
                    ["bot": "default", "method": "sendMessage", "params": ["chat_id": 3, "text": "three"]],
                    ["bot": "default", "method": "sendMessage", "params": ["chat_id": 4, "text": ""]],
                    ["chat_id": 5, "text": "five"],
                 ]],
                 status: 400, code: "empty_text", field: "messages[3].params.text", path: "/messages/batch"),
            Case(name: "batch item not an object", body: ["messages": [["chat_id": 1, "text": "one"], 7]],
                 status: 400, code: "invalid_field", field: "messages[1]", path: "/messages/batch"),
            Case(name: "broadcast with a bad chat", body: ["chat_ids": [1, "nobody", 3], "params": ["text": "hi"]],
                 status: 400, code: "invalid_chat_id", field: "chat_ids[1]", path: "/broadcasts"),
            Case(name: "broadcast with a numeric bot", body: ["bot": 2, "chat_ids": [1], "params": ["text": "hi"]],
                 status: 400, code: "invalid_field", field: "bot", path: "/broadcasts"),
            Case(name: "broadcast with an unknown bot", body: ["bot": "nobody", "chat_ids": [1], "params": ["text": "hi"]],
                 status: 404, code: "unknown_bot", field: "bot", path: "/broadcasts"),
            Case(name: "broadcast with a numeric method", body: ["method": 1, "chat_ids": [1], "params": ["text": "hi"]],
                 status: 400, code: "invalid_field", field: "method", path: "/broadcasts"),
            Case(name: "broadcast with a numeric key", body: ["idempotency_key": 1, "chat_ids": [1], "params": ["text": "hi"]],
                 status: 400, code: "invalid_field", field: "idempotency_key", path: "/broadcasts"),
            Case(name: "broadcast with empty text", body: ["chat_ids": [1, 2], "params": ["text": ""]],
                 status: 400, code: "empty_text", field: "params.text", path: "/broadcasts"),
            Case(name: "broadcast of 1001", body: ["chat_ids": Array(1...1001), "params": ["text": "hi"]],
                 status: 413, code: "batch_too_large", field: "chat_ids", path: "/broadcasts"),
            Case(name: "broadcast without chats", body: ["chat_ids": [], "params": ["text": "hi"]],
                 status: 400, code: "missing_field", field: "chat_ids", path: "/broadcasts"),
        ]
    }

    @Test func everyBadInputIsRefusedPreciselyAndNothingIsStored() async throws {
        let bed = try await TestBed.rest(config: REST.config(options: ["max_body_bytes": Self.maxBody]))
        defer { Task { try await bed.shutdown() } }
        let first = try await bed.send(chat: 1, text: "before")

        for item in Self.cases {
            let response = try await bed.http.json(.POST, bed.api + item.path, body: item.body, rawBody: item.raw ?? (item.body == nil ? "" : nil))
            #expect(response.status == item.status, "\(item): \(response.body)")
            #expect(response.error["code"] as? String == item.code, "\(item): \(response.body)")
            #expect(response.error["field"] as? String == item.field, "\(item): \(response.body)")
            #expect((response.error["message"] as? String)?.isEmpty == false, "\(item)")
            #expect(response.headers["content-type"]?.hasPrefix("application/json") == true, "\(item)")
        }
        // Still alive after every case, including the ones that could overflow a deadline.
        #expect(try await bed.http.json(.GET, bed.relay.baseURL + "/healthz").status == 200)

        // Nothing was stored: the next accepted message takes the very next id.
        let next = try await bed.send(chat: 1, text: "after")
        #expect(next == first + 1)
        #expect(try await bed.http.json(.GET, bed.api + "/messages/\(next + 1)").status == 404)
        let final = try await bed.waitFinal([first, next], timeout: .seconds(10))
        #expect(final.values.allSatisfy { $0["status"] as? String == "delivered" })
        let status = try #require(try await bed.botStatus())
        #expect(status["delivered"] as? Int == 2)
        #expect(status["queue_depth"] as? Int == 0)
        #expect(bed.recordedSends.map { $0.params["text"]?.stringValue } == ["before", "after"])
    }

    @Test func bodyOverTheLimitIsRefusedWithoutContentLengthToo() async throws {
        let bed = try await TestBed.rest(config: REST.config(options: ["max_body_bytes": 1024]))
        defer { Task { try await bed.shutdown() } }
        let big = #"{"chat_id": 1, "text": "\#(String(repeating: "z", count: 4000))"}"#
        let response = try await bed.postChunked("/messages", big)
        #expect(response.status == 413)
        #expect(response.error["code"] as? String == "body_too_large", "\(response.body)")
        let small = try await bed.postChunked("/messages", #"{"chat_id": 1, "text": "small"}"#, chunk: 7)
        #expect(small.status == 202, "\(small.body)")
    }

    @Test func limitsAreInclusiveAndCountedInUTF16() async throws {
        let bed = try await TestBed.rest()
        defer { Task { try await bed.shutdown() } }
        let ascii = String(repeating: "a", count: 4096)
        let emoji = String(repeating: "😀", count: 2048)
        let caption = String(repeating: "c", count: 1024)
        let a = try await bed.send(chat: 11, text: ascii)
        let b = try await bed.send(chat: 12, text: emoji)
        let photo = try await bed.post("/messages", [
            "method": "sendPhoto", "params": ["chat_id": 13, "photo": "https://example.com/p.jpg", "caption": caption],
        ])
        #expect(photo.status == 202, "\(photo.body)")
        let c = try #require(photo["id"] as? Int)
        let final = try await bed.waitFinal([a, b, c], timeout: .seconds(10))
        #expect(final[a]?["status"] as? String == "delivered")
        #expect(final[b]?["status"] as? String == "delivered")
        #expect(final[c]?["status"] as? String == "delivered", "\(final[c] ?? [:])")
        #expect(bed.deliveredTexts(chat: "11") == [ascii])
        #expect(bed.deliveredTexts(chat: "12") == [emoji])
        #expect(bed.telegram.messages(bot: TestBed.botID, chat: "13").first?.params["caption"]?.stringValue == caption)
    }

    @Test func shorthandAndFullFormBothDeliverAndChatIDsSurviveExactly() async throws {
        let bed = try await TestBed.rest()
        defer { Task { try await bed.shutdown() } }
        let big: Int64 = -1_001_234_567_890_123
        let shorthand = try await bed.post("/messages", ["chat_id": 4242, "text": "short", "parse_mode": "HTML"])
        let full = try await bed.post("/messages", [
            "bot": "default", "method": "sendMessage", "params": ["chat_id": 4243, "text": "full", "disable_notification": true],
        ])
        // Written by hand: a 64-bit id must not pass through a Double anywhere on the way.
        let supergroup = try await bed.http.json(.POST, bed.api + "/messages", rawBody: #"{"chat_id": -1001234567890123, "text": "wide"}"#)
        let channel = try await bed.post("/messages", ["chat_id": "@ChannelName", "text": "public"])
        let textual = try await bed.post("/messages", ["chat_id": "-1001234567890124", "text": "as text"])
        let responses = [shorthand, full, supergroup, channel, textual]
        #expect(responses.map(\.status) == [202, 202, 202, 202, 202], "\(responses.map(\.body))")
        let ids = responses.compactMap { $0["id"] as? Int }
        #expect(responses.allSatisfy { $0["status"] as? String == "queued" })
        let final = try await bed.waitFinal(ids, timeout: .seconds(10))
        #expect(final.values.allSatisfy { $0["status"] as? String == "delivered" }, "\(final)")

        #expect(final[ids[0]]?["chat_id"] as? String == "4242")
        #expect(final[ids[2]]?["chat_id"] as? String == String(big))
        #expect(final[ids[3]]?["chat_id"] as? String == "@channelname", "lanes use the canonical username")
        #expect(final[ids[4]]?["chat_id"] as? String == "-1001234567890124")

        let sentShort = try #require(bed.telegram.messages(bot: TestBed.botID, chat: "4242").first)
        #expect(sentShort.params["parse_mode"]?.stringValue == "HTML")
        #expect(sentShort.params["text"]?.stringValue == "short")
        let sentFull = try #require(bed.telegram.messages(bot: TestBed.botID, chat: "4243").first)
        #expect(sentFull.params["disable_notification"]?.boolValue == true)
        let sentWide = try #require(bed.telegram.messages(bot: TestBed.botID, chat: String(big)).first)
        #expect(sentWide.params["chat_id"]?.intValue == big)
        #expect(sentWide.chatID == big)
        // The relay addresses the lane's canonical chat: the same channel (usernames ignore case) and the
        // same integer, whichever spelling the caller used.
        let sentChannel = try #require(bed.telegram.messages(bot: TestBed.botID, chat: "@ChannelName").first)
        #expect(sentChannel.params["chat_id"]?.stringValue?.lowercased() == "@channelname")
        let sentTextual = try #require(bed.telegram.messages(bot: TestBed.botID, chat: "-1001234567890124").first)
        let textualID = sentTextual.params["chat_id"].flatMap { $0.intValue ?? $0.stringValue.flatMap { Int64($0) } }
        #expect(textualID == -1_001_234_567_890_124)
        // The message resource shows the params as stored, with the id exact.
        let stored = try await bed.http.json(.GET, bed.api + "/messages/\(ids[2])")
        let storedBody = String(decoding: try JSONSerialization.data(withJSONObject: stored.object), as: UTF8.self)
        #expect(storedBody.contains("-1001234567890123"))
    }
}
