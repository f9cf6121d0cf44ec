import Foundation
import TGRelayCore
import TGRelayStore
import Testing

@testable import TGRelayServer

/// The body a send carries: the stored params as they are when nothing changes, else rebuilt with the
/// lane's current chat, and either way what `requestParams` says.
struct RequestBodyTests {
    static func message(chat: String, params: String, method: String = "sendMessage") -> OutboundMessage {
        let now = Date()
        return OutboundMessage(
            id: 1, bot: "default", chat: chat, method: method, params: params, payloadHash: "00", status: .sending,
            attempts: 0, notBefore: nil, deadline: nil, atMostOnce: false, createdAt: now, updatedAt: now, lastError: nil,
            ambiguous: false)
    }

    @Test(arguments: [
        // Unchanged: the stored bytes go out as they are.
        ("42", #"{"chat_id":42,"text":"hi"}"#, #"{"chat_id":42,"text":"hi"}"#),
        ("-1001234", #"{"chat_id":-1001234,"text":"x"}"#, #"{"chat_id":-1001234,"text":"x"}"#),
        ("@news", #"{"chat_id":"@news","text":"x"}"#, #"{"chat_id":"@news","text":"x"}"#),
        ("77", #"{"text":"no chat","user_id":77}"#, #"{"text":"no chat","user_id":77}"#),
        // A text that mentions the key is not the key.
        ("42", #"{"chat_id":42,"text":"\"chat_id\":1"}"#, #"{"chat_id":42,"text":"\"chat_id\":1"}"#),
        // The group migrated: the new id goes out.
        ("-1009999", #"{"chat_id":-4242,"text":"x"}"#, #"{"chat_id":-1009999,"text":"x"}"#),
        // A chat id sent as a string goes out as a number, as Telegram documents it.
        ("42", #"{"chat_id":"42","text":"x"}"#, #"{"chat_id":42,"text":"x"}"#),
        // A prefix of the id is not the id.
        ("4", #"{"chat_id":42,"text":"x"}"#, #"{"chat_id":4,"text":"x"}"#),
        // A nested chat_id (another chat's message quoted) stays; the top-level one follows the lane.
        ("-1009999", #"{"chat_id":-4242,"reply_parameters":{"chat_id":-4242,"message_id":5},"text":"x"}"#,
            #"{"chat_id":-1009999,"reply_parameters":{"chat_id":-4242,"message_id":5},"text":"x"}"#),
    ])
    func bodyNamesTheLanesChat(chat: String, params: String, expected: String) {
        let message = Self.message(chat: chat, params: params)
        #expect(String(decoding: Dispatcher.requestJSON(message), as: UTF8.self) == expected)
        #expect(Dispatcher.requestJSON(message) == Array(CanonicalJSON.serialize(.object(Dispatcher.requestParams(message))).utf8))
    }
}
