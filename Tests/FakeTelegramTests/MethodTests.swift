import Foundation
import Testing

@testable import FakeTelegram

/// The implemented methods answer with Telegram-shaped objects.
@Suite struct MethodTests {
    @Test func getMeDescribesTheBot() async throws {
        try await Harness.run(token: "987654:secret") { h throws in
            let me = try await h.call("getMe")
            #expect(me.result?["id"] == 987_654)
            #expect(me.result?["is_bot"] == true)
            #expect(me.result?["username"] == "fake987654_bot")
        }
    }

    @Test func messagesLookReal() async throws {
        try await Harness.run({ $0.limits = .off }) { h throws in
            let first = try await h.call("sendMessage", ["chat_id": 42, "text": "a"])
            let second = try await h.call("sendMessage", ["chat_id": "42", "text": "b"])
            let other = try await h.call("sendMessage", ["chat_id": 43, "text": "c"])
            #expect(first.result?["message_id"] == 1)
            #expect(second.result?["message_id"] == 2)
            #expect(other.result?["message_id"] == 1)
            #expect(first.result?["from"]?["id"] == 123)
            #expect(first.result?["from"]?["is_bot"] == true)
            #expect(first.result?["chat"]?["type"] == "private")
            #expect(first.result?["chat"]?["id"] == 42)
            #expect(first.result?["date"]?.intValue ?? 0 > 1_600_000_000)

            let group = try await h.call("sendMessage", ["chat_id": -4711, "text": "g"])
            #expect(group.result?["chat"]?["type"] == "group")
            let supergroup = try await h.call("sendMessage", ["chat_id": -1_001_234_567_890, "text": "s"])
            #expect(supergroup.result?["chat"]?["type"] == "supergroup")
            let channel = try await h.call("sendMessage", ["chat_id": "@news", "text": "n"])
            #expect(channel.result?["chat"]?["type"] == "channel")
            #expect(channel.result?["chat"]?["username"] == "news")
            #expect(channel.result?["sender_chat"] != nil)
            #expect(channel.result?["from"] == nil)
        }
    }

    @Test func htmlBecomesEntities() async throws {
        try await Harness.run { h throws in
            let reply = try await h.call(
                "sendMessage", ["chat_id": 42, "text": "<b>Hi</b> 😀 <a href=\"https://x.org\">link</a> &lt;3", "parse_mode": "HTML"])
            #expect(reply.result?["text"] == "Hi 😀 link <3")
            #expect(
                reply.result?["entities"]
                    == [
                        ["type": "bold", "offset": 0, "length": 2],
                        ["type": "text_link", "offset": 6, "length": 4, "url": "https://x.org"],
                    ])
        }
    }

    @Test func sendPhotoAcceptsFileIDURLAndUpload() async throws {
        try await Harness.run({ $0.limits = .off }) { h throws in
            let byID = try await h.call("sendPhoto", ["chat_id": 42, "photo": "AgACAgIAAxkBAAIBZ2Zfake_file_id-123"])
            #expect(byID.result?["photo"]?.arrayValue?.count == 3)
            let byURL = try await h.call("sendPhoto", ["chat_id": 42, "photo": "https://example.org/cat.jpg", "caption": "cat"])
            #expect(byURL.result?["caption"] == "cat")
            let upload = try await h.multipart(
                "sendPhoto", [("chat_id", "42"), ("caption", "up")], files: [("photo", "cat.jpg", Array(repeating: 7, count: 2000))])
            #expect(upload.ok)
            #expect(upload.result?["photo"]?.arrayValue?.last?["width"] == 800)
            let attached = try await h.multipart(
                "sendPhoto", [("chat_id", "42"), ("photo", "attach://pic")], files: [("pic", "p.png", [1, 2, 3])])
            #expect(attached.ok)
            let missing = try await h.call("sendPhoto", ["chat_id": 42])
            #expect(missing.description == "Bad Request: there is no photo in the request")
            let bogus = try await h.call("sendPhoto", ["chat_id": 42, "photo": "nope"])
            #expect(bogus.description == "Bad Request: wrong file identifier/HTTP URL specified")
            let recorded = h.fake.messages().last { $0.method == "sendPhoto" && $0.params["photo"]?["file_size"] != nil }
            #expect(recorded?.params["photo"]?["file_size"] == 2000)
        }
    }

    @Test func sendDocumentUpload() async throws {
        try await Harness.run { h throws in
            let reply = try await h.multipart(
                "sendDocument", [("chat_id", "42")], files: [("document", "report.pdf", Array("%PDF-1.4".utf8))])
            #expect(reply.result?["document"]?["file_name"] == "report.pdf")
            #expect(reply.result?["document"]?["file_size"] == 8)
            #expect(try await h.call("sendDocument", ["chat_id": 42]).description == "Bad Request: there is no document in the request")
        }
    }

    @Test func copyAndForward() async throws {
        try await Harness.run({ $0.limits = .off }) { h throws in
            _ = try await h.call("sendMessage", ["chat_id": 42, "text": "original"])
            let copy = try await h.call("copyMessage", ["chat_id": 43, "from_chat_id": 42, "message_id": 1])
            #expect(copy.result == ["message_id": 1])
            let forward = try await h.call("forwardMessage", ["chat_id": 43, "from_chat_id": 42, "message_id": 1])
            #expect(forward.result?["message_id"] == 2)
            #expect(forward.result?["text"] == "original")
            #expect(forward.result?["forward_origin"]?["type"] == "user")
            let missing = try await h.call("copyMessage", ["chat_id": 43, "from_chat_id": 42])
            #expect(missing.description == "Bad Request: message identifier is not specified")
            #expect(h.fake.messages(chat: "43").map(\.method) == ["copyMessage", "forwardMessage"])
        }
    }

    @Test func editAndDelete() async throws {
        try await Harness.run { h throws in
            _ = try await h.call("sendMessage", ["chat_id": 42, "text": "v1"])
            let edited = try await h.call("editMessageText", ["chat_id": 42, "message_id": 1, "text": "v2"])
            #expect(edited.result?["text"] == "v2")
            #expect(edited.result?["edit_date"] != nil)
            let same = try await h.call("editMessageText", ["chat_id": 42, "message_id": 1, "text": "v2"])
            #expect(same.status == 400)
            #expect(same.description?.hasPrefix("Bad Request: message is not modified") == true)
            let gone = try await h.call("editMessageText", ["chat_id": 42, "message_id": 99, "text": "x"])
            #expect(gone.description == "Bad Request: message to edit not found")
            #expect(try await h.call("deleteMessage", ["chat_id": 42, "message_id": 1]).result == true)
            let again = try await h.call("deleteMessage", ["chat_id": 42, "message_id": 1])
            #expect(again.description == "Bad Request: message to delete not found")
        }
    }

    @Test func chatAction() async throws {
        try await Harness.run { h throws in
            #expect(try await h.call("sendChatAction", ["chat_id": 42, "action": "typing"]).result == true)
            let wrong = try await h.call("sendChatAction", ["chat_id": 42, "action": "dancing"])
            #expect(wrong.description == "Bad Request: wrong parameter action in request")
            #expect(h.fake.messages().isEmpty)
        }
    }
}
