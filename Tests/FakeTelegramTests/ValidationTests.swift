import Foundation
import Testing

@testable import FakeTelegram

/// Validation errors carry Telegram's exact descriptions.
@Suite struct ValidationTests {
    @Test func missingParameters() async throws {
        try await Harness.run { h throws in
            let noChat = try await h.call("sendMessage", ["text": "x"])
            #expect(noChat.status == 400)
            #expect(noChat.body == #"{"description":"Bad Request: chat_id is empty","error_code":400,"ok":false}"#)
            #expect(try await h.call("sendMessage", ["chat_id": 42]).description == "Bad Request: message text is empty")
            #expect(try await h.call("sendMessage", ["chat_id": 42, "text": "  \n"]).description == "Bad Request: message text is empty")
            #expect(
                try await h.call("sendMessage", ["chat_id": 42, "text": "<b></b>", "parse_mode": "HTML"]).description
                    == "Bad Request: message text is empty")
        }
    }

    @Test func textLengthCountsUTF16AfterParsing() async throws {
        try await Harness.run({ $0.limits = .off }) { h throws in
            #expect(try await h.call("sendMessage", ["chat_id": 42, "text": .string(String(repeating: "a", count: 4096))]).ok)
            let long = try await h.call("sendMessage", ["chat_id": 42, "text": .string(String(repeating: "a", count: 4097))])
            #expect(long.status == 400)
            #expect(long.description == "Bad Request: message is too long")
            // An emoji is two UTF-16 code units.
            #expect(try await h.call("sendMessage", ["chat_id": 42, "text": .string(String(repeating: "😀", count: 2048))]).ok)
            #expect(!(try await h.call("sendMessage", ["chat_id": 42, "text": .string(String(repeating: "😀", count: 2049))]).ok))
            // Markup does not count: 4096 characters of text inside <b> is fine.
            let bold = "<b>" + String(repeating: "a", count: 4096) + "</b>"
            #expect(try await h.call("sendMessage", ["chat_id": 42, "text": .string(bold), "parse_mode": "HTML"]).ok)
        }
    }

    @Test func captionLength() async throws {
        try await Harness.run { h throws in
            let reply = try await h.call(
                "sendPhoto", ["chat_id": 42, "photo": "https://e.org/a.jpg", "caption": .string(String(repeating: "c", count: 1025))])
            #expect(reply.status == 400)
            #expect(reply.description == "Bad Request: message caption is too long")
        }
    }

    @Test func unknownChats() async throws {
        try await Harness.run({
            $0.unknownChats = ["-999", "@ghost"]
            $0.isUnknownChat = { $0.id == 666 }
        }) { h throws in
            for chat: FakeJSON in [-999, "@ghost", 666, 0, "not-a-chat"] {
                let reply = try await h.call("sendMessage", ["chat_id": chat, "text": "x"])
                #expect(reply.status == 400)
                #expect(reply.description == "Bad Request: chat not found", "chat \(chat)")
            }
        }
    }

    @Test(arguments: [
        ("<b>bold", "Can't find end tag corresponding to start tag \"b\""),
        ("héllo <foo>x</foo>", "Unsupported start tag \"foo\" at byte offset 7"),
        ("a </b>", "Unexpected end tag at byte offset 2"),
        ("<b><i>x</b></i>", "Unmatched end tag at byte offset 7, expected \"</i>\", found \"</b>\""),
        ("1 < 2", "Unsupported start tag \"\" at byte offset 2"),
        ("<a href=\"x\"", "Unclosed start tag at byte offset 0"),
        ("<span>x</span>", "Tag \"span\" must have class \"tg-spoiler\" at byte offset 0"),
    ])
    func brokenHTML(text: String, tail: String) async throws {
        try await Harness.run { h throws in
            let reply = try await h.call("sendMessage", ["chat_id": 42, "text": .string(text), "parse_mode": "HTML"])
            #expect(reply.status == 400)
            #expect(reply.description == "Bad Request: can't parse entities: \(tail)")
        }
    }

    @Test func markdownV2ReservedCharacters() async throws {
        try await Harness.run({ $0.limits = .off }) { h throws in
            let reply = try await h.call("sendMessage", ["chat_id": 42, "text": "Total: 5.", "parse_mode": "MarkdownV2"])
            #expect(reply.description == "Bad Request: can't parse entities: Character '.' is reserved and must be escaped with the preceding '\\'")
            let open = try await h.call("sendMessage", ["chat_id": 42, "text": "*bold", "parse_mode": "MarkdownV2"])
            #expect(open.description == "Bad Request: can't parse entities: Can't find end of Bold entity at byte offset 0")
            let fine = try await h.call("sendMessage", ["chat_id": 42, "text": "*bold* 5\\.", "parse_mode": "MarkdownV2"])
            #expect(fine.result?["text"] == "bold 5.")
            #expect(fine.result?["entities"] == [["type": "bold", "offset": 0, "length": 4]])
        }
    }
}
