import Foundation
import Testing
import TGRelayCore

@Suite struct SendValidationTests {
    func params(_ json: String) -> [String: JSONValue] {
        try! CanonicalJSON.parseObject(json).object
    }

    func error(_ method: String, _ json: String) -> SendValidationError? {
        do {
            _ = try SendValidation.validate(method: method, params: params(json))
            return nil
        } catch {
            return error
        }
    }

    @Test func acceptsAPlainMessage() throws {
        let send = try SendValidation.validate(method: "sendMessage", params: params(#"{"chat_id":42,"text":"hi"}"#))
        #expect(send.method == "sendMessage")
        #expect(send.chat == "42")
        #expect(!send.paidBroadcast)
        #expect(send.spec == BotAPIMethods.sendMethods["sendMessage"])
    }

    @Test func methodNamesAreCaseInsensitiveLikeTelegrams() throws {
        let send = try SendValidation.validate(method: "SENDMESSAGE", params: params(#"{"chat_id":42,"text":"hi"}"#))
        #expect(send.method == "sendMessage")
    }

    @Test func readsThePaidBroadcastFlag() throws {
        let send = try SendValidation.validate(
            method: "sendPhoto", params: params(#"{"chat_id":-1001,"photo":"AgAD","allow_paid_broadcast":true}"#))
        #expect(send.paidBroadcast)
    }

    struct Case: Sendable, CustomTestStringConvertible {
        var method: String
        var params: String
        var code: SendValidationError.Code
        var field: String
        var testDescription: String { "\(code.rawValue): \(method) \(params.prefix(50))" }
    }

    static let long4097 = String(repeating: "a", count: 4097)
    static let long1025 = String(repeating: "b", count: 1025)

    static let failures: [Case] = [
        Case(method: "sendMesage", params: #"{"chat_id":1,"text":"x"}"#, code: .unknownMethod, field: "method"),
        Case(method: "", params: "{}", code: .unknownMethod, field: "method"),
        Case(method: "getMe", params: "{}", code: .notASendMethod, field: "method"),
        Case(method: "getUpdates", params: "{}", code: .notASendMethod, field: "method"),
        Case(method: "sendMessage", params: #"{"text":"x"}"#, code: .missingField, field: "chat_id"),
        Case(method: "sendMessage", params: #"{"chat_id":null,"text":"x"}"#, code: .missingField, field: "chat_id"),
        Case(method: "editMessageText", params: #"{"inline_message_id":"AAA","text":"x"}"#, code: .missingField, field: "chat_id"),
        Case(method: "sendGift", params: #"{"gift_id":"g"}"#, code: .missingField, field: "user_id"),
        Case(method: "sendMessage", params: #"{"chat_id":0,"text":"x"}"#, code: .invalidChatID, field: "chat_id"),
        Case(method: "sendMessage", params: #"{"chat_id":1.5,"text":"x"}"#, code: .invalidChatID, field: "chat_id"),
        Case(method: "sendMessage", params: #"{"chat_id":"abc","text":"x"}"#, code: .invalidChatID, field: "chat_id"),
        Case(method: "sendMessage", params: #"{"chat_id":"@","text":"x"}"#, code: .invalidChatID, field: "chat_id"),
        Case(method: "sendMessage", params: #"{"chat_id":"@bad name","text":"x"}"#, code: .invalidChatID, field: "chat_id"),
        Case(method: "sendMessage", params: #"{"chat_id":"","text":"x"}"#, code: .invalidChatID, field: "chat_id"),
        Case(method: "sendMessage", params: #"{"chat_id":true,"text":"x"}"#, code: .invalidChatID, field: "chat_id"),
        Case(method: "sendMessage", params: #"{"chat_id":[1],"text":"x"}"#, code: .invalidChatID, field: "chat_id"),
        Case(method: "sendMessage", params: #"{"chat_id":99999999999999999999,"text":"x"}"#, code: .invalidChatID, field: "chat_id"),
        Case(method: "sendGift", params: #"{"user_id":"x","gift_id":"g"}"#, code: .invalidChatID, field: "user_id"),
        Case(method: "sendMessage", params: #"{"chat_id":1}"#, code: .missingField, field: "text"),
        Case(method: "sendMessage", params: #"{"chat_id":1,"text":""}"#, code: .emptyText, field: "text"),
        Case(method: "sendMessage", params: #"{"chat_id":1,"text":" \n\t "}"#, code: .emptyText, field: "text"),
        Case(method: "editMessageText", params: #"{"chat_id":1,"message_id":2,"text":""}"#, code: .emptyText, field: "text"),
        Case(method: "sendMessage", params: #"{"chat_id":1,"text":42}"#, code: .invalidField, field: "text"),
        Case(method: "sendMessage", params: #"{"chat_id":1,"text":"\#(long4097)"}"#, code: .textTooLong, field: "text"),
        Case(method: "editMessageText", params: #"{"chat_id":1,"message_id":2,"text":"\#(long4097)"}"#,
             code: .textTooLong, field: "text"),
        Case(method: "sendGift", params: #"{"chat_id":"@chan","gift_id":"g","text":"\#(String(repeating: "c", count: 129))"}"#,
             code: .textTooLong, field: "text"),
        Case(method: "sendPhoto", params: #"{"chat_id":1,"photo":"p","caption":"\#(long1025)"}"#,
             code: .captionTooLong, field: "caption"),
        Case(method: "copyMessage", params: #"{"chat_id":1,"from_chat_id":2,"message_id":3,"caption":"\#(long1025)"}"#,
             code: .captionTooLong, field: "caption"),
        Case(method: "editMessageCaption", params: #"{"chat_id":1,"message_id":3,"caption":"\#(long1025)"}"#,
             code: .captionTooLong, field: "caption"),
        Case(method: "sendPhoto", params: #"{"chat_id":1,"photo":"p","caption":7}"#, code: .invalidField, field: "caption"),
        Case(method: "sendMediaGroup",
             params: #"{"chat_id":1,"media":[{"type":"photo","media":"a","caption":"ok"},{"type":"photo","media":"b","caption":"\#(long1025)"}]}"#,
             code: .captionTooLong, field: "media[1].caption"),
    ]

    @Test(arguments: failures)
    func refusesWithCodeAndField(_ failure: Case) {
        let error = error(failure.method, failure.params)
        #expect(error?.code == failure.code)
        #expect(error?.field == failure.field)
        #expect(error?.message.isEmpty == false)
    }

    @Test func messagesSayWhatIsWrong() {
        #expect(error("sendMessage", #"{"chat_id":1,"text":"\#(Self.long4097)"}"#)?.message
            == "text is 4097 characters, at most 4096 allowed")
        #expect(error("sendMessage", #"{"text":"x"}"#)?.description == "missing_field (chat_id): chat_id is required")
        #expect(SendValidationError.Code.allCases.map(\.rawValue) == [
            "unknown_method", "not_a_send_method", "missing_field", "invalid_chat_id", "invalid_field",
            "empty_text", "text_too_long", "caption_too_long",
        ])
    }

    @Test func limitsAreInclusive() {
        #expect(error("sendMessage", #"{"chat_id":1,"text":"\#(String(repeating: "a", count: 4096))"}"#) == nil)
        #expect(error("sendPhoto", #"{"chat_id":1,"photo":"p","caption":"\#(String(repeating: "b", count: 1024))"}"#) == nil)
        #expect(error("sendPhoto", #"{"chat_id":1,"photo":"p","caption":""}"#) == nil)
        #expect(error("sendMessage", #"{"chat_id":1,"text":"a"}"#) == nil)
    }

    @Test func countsUTF16CodeUnitsAsTelegramDoes() {
        #expect(SendValidation.telegramLength("😀") == 2)
        #expect(SendValidation.telegramLength("é") == 1)
        #expect(SendValidation.telegramLength("👩‍👩‍👧") == 8)
        // 2048 emoji are 4096 code units: the limit exactly; one more letter is too long.
        let emoji = String(repeating: "😀", count: 2048)
        #expect(error("sendMessage", #"{"chat_id":1,"text":"\#(emoji)"}"#) == nil)
        #expect(error("sendMessage", #"{"chat_id":1,"text":"\#(emoji)x"}"#)?.code == .textTooLong)
        // 4096 letters outside ASCII but inside the BMP count one each.
        #expect(error("sendMessage", #"{"chat_id":1,"text":"\#(String(repeating: "é", count: 4096))"}"#) == nil)
    }

    @Test func markupLengthIsLeftToTelegram() {
        // With a parse_mode the tags do not count, which only Telegram's parser knows exactly.
        let html = String(repeating: "<b>x</b>", count: 600)
        #expect(error("sendMessage", #"{"chat_id":1,"text":"\#(html)","parse_mode":"HTML"}"#) == nil)
        #expect(error("sendMessage", #"{"chat_id":1,"text":"\#(html)"}"#)?.code == .textTooLong)
        #expect(error("sendMessage", #"{"chat_id":1,"text":"","parse_mode":"HTML"}"#)?.code == .emptyText)
        #expect(error("sendMediaGroup",
                      #"{"chat_id":1,"media":[{"type":"photo","media":"a","parse_mode":"HTML","caption":"\#(Self.long1025)"}]}"#) == nil)
    }

    @Test func methodsWithoutTextOrCaptionSkipThoseChecks() {
        #expect(error("deleteMessage", #"{"chat_id":"@Chan","message_id":5}"#) == nil)
        #expect(error("sendChatAction", #"{"chat_id":1,"action":"typing"}"#) == nil)
        #expect(error("sendMessageDraft", #"{"chat_id":1,"draft_id":1,"text":""}"#) == nil)
    }

    @Test func targetsAreCanonical() throws {
        let cases: [(String, String)] = [
            (#"{"chat_id":-1001234567890,"text":"x"}"#, "-1001234567890"),
            (#"{"chat_id":"-1001234567890","text":"x"}"#, "-1001234567890"),
            (#"{"chat_id":"@News_Channel","text":"x"}"#, "@news_channel"),
            (#"{"chat_id":42.0,"text":"x"}"#, "42"),
        ]
        for (json, chat) in cases {
            #expect(try SendValidation.validate(method: "sendMessage", params: params(json)).chat == chat)
        }
        #expect(try SendValidation.validate(method: "sendGift", params: params(#"{"user_id":777,"gift_id":"g"}"#)).chat == "777")
        #expect(try SendValidation.validate(method: "sendGift", params: params(#"{"chat_id":"@chan","gift_id":"g"}"#)).chat == "@chan")
    }
}
