import Foundation
import Testing

@testable import FakeTelegram

/// Encodings, routing and the envelope.
@Suite struct RequestTests {
    @Test func fourEncodingsSendAMessage() async throws {
        try await Harness.run({ $0.limits = .off }) { h throws in
            let viaQuery = try await h.query("sendMessage", [("chat_id", "42"), ("text", "via query")])
            let viaForm = try await h.form("sendMessage", [("chat_id", "42"), ("text", "via form & more")])
            let viaJSON = try await h.call("sendMessage", ["chat_id": 42, "text": "via json"])
            let viaMultipart = try await h.multipart("sendMessage", [("chat_id", "42"), ("text", "via multipart")])
            for (reply, text) in [(viaQuery, "via query"), (viaForm, "via form & more"), (viaJSON, "via json"), (viaMultipart, "via multipart")] {
                #expect(reply.status == 200)
                #expect(reply.contentType == "application/json")
                #expect(reply.ok)
                #expect(reply.result?["text"] == .string(text))
            }
            #expect(h.fake.messages().map(\.messageID) == [1, 2, 3, 4])
        }
    }

    @Test func jsonStringParametersAreParsedInForms() async throws {
        try await Harness.run({ $0.limits = .off }) { h throws in
            let markup = #"{"inline_keyboard":[[{"text":"Open","callback_data":"x"}]]}"#
            for reply in [
                try await h.form("sendMessage", [("chat_id", "42"), ("text", "k"), ("reply_markup", markup)]),
                try await h.multipart("sendMessage", [("chat_id", "42"), ("text", "k"), ("reply_markup", markup)]),
            ] {
                #expect(reply.result?["reply_markup"]?["inline_keyboard"]?.arrayValue?.first?.arrayValue?.first?["text"] == "Open")
            }
            let broken = try await h.form("sendMessage", [("chat_id", "42"), ("text", "k"), ("reply_markup", "{nope")])
            #expect(broken.status == 400)
            #expect(broken.description == "Bad Request: can't parse reply keyboard markup JSON object")
        }
    }

    @Test func methodNamesAreCaseInsensitive() async throws {
        try await Harness.run { h throws in
            #expect(try await h.call("GETME").result?["id"] == 123)
            #expect(try await h.call("sendmessage", ["chat_id": 1, "text": "x"]).ok)
            #expect(h.fake.stats().requestsByMethod["getMe"] == 1)
        }
    }

    @Test func unknownMethodIs404() async throws {
        try await Harness.run { h throws in
            let reply = try await h.call("sendTelepathy")
            #expect(reply.status == 404)
            #expect(reply.body == #"{"description":"Not Found","error_code":404,"ok":false}"#)
            #expect(reply.json?["parameters"] == nil)
        }
    }

    @Test func malformedAndUnknownTokens() async throws {
        try await Harness.run({ $0.allowedTokens = ["123:abc"] }) { h throws in
            #expect(try await h.call("getMe", token: "notatoken").status == 404)
            let wrong = try await h.call("getMe", token: "123:other")
            #expect(wrong.status == 401)
            #expect(wrong.description == "Unauthorized")
            #expect(try await h.call("getMe").ok)
        }
    }

    @Test func everyBotAPIMethodIsKnown() async throws {
        #expect(BotAPIMethods.all.count == 180)
        try await Harness.run({ $0.limits = .off }) { h throws in
            for (name, _) in BotAPIMethods.all where name != "getUpdates" {
                let reply = try await h.call(
                    name, ["chat_id": 42, "from_chat_id": 42, "message_id": 1, "message_ids": [1], "text": "t", "user_id": 7])
                #expect(reply.status != 404, "\(name) answered 404")
                #expect(reply.json?["ok"] != nil, "\(name) answered no envelope")
            }
            let invite = try await h.call("createChatInviteLink", ["chat_id": -100_123])
            #expect(invite.result?["invite_link"]?.stringValue?.hasPrefix("https://t.me/+") == true)
            #expect(try await h.call("getChatMemberCount", ["chat_id": -100_123]).result == 2)
            #expect(try await h.call("sendLocation", ["chat_id": 42, "latitude": 1.5, "longitude": 2]).result?["location"]?["latitude"] == 1.5)
        }
    }

    @Test func errorEnvelopeCarriesParametersOnlyWhenNeeded() {
        #expect(BotAPIError.chatNotFound.json.serialized == #"{"description":"Bad Request: chat not found","error_code":400,"ok":false}"#)
        #expect(
            BotAPIError.tooManyRequests(retryAfter: 3).json.serialized
                == #"{"description":"Too Many Requests: retry after 3","error_code":429,"ok":false,"parameters":{"retry_after":3}}"#)
    }
}
