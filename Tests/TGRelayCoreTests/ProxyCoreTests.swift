import Foundation
import Testing
import TGRelayCore

/// The proxy's pure parts: which methods go through the outbox, form values as JSON, the retry estimate.
@Suite struct ProxyCoreTests {
    /// The spec of record (a copy of the shared api.json, MIT, in Tests/Fixtures/botapi).
    static func specMethods() throws -> [String: [String]] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/botapi/api.json")
        let spec = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        let methods = try #require(spec["methods"] as? [String: [String: Any]])
        return methods.mapValues { method in
            ((method["fields"] as? [[String: Any]]) ?? []).compactMap { $0["name"] as? String }
        }
    }

    /// Every send*, edit*, copyMessage(s), forwardMessage(s) and deleteMessage(s) that addresses a chat (a
    /// lane): exactly the methods the proxy sends through the outbox.
    @Test func outboxMethodsAreDerivedFromTheSpec() throws {
        let methods = try Self.specMethods()
        #expect(Set(methods.keys) == BotAPIMethods.all, "the compiled-in method list is the spec's")
        let messageMethods: Set<String> = ["copyMessage", "copyMessages", "forwardMessage", "forwardMessages", "deleteMessage", "deleteMessages"]
        let derived = Set(methods.compactMap { name, fields -> String? in
            let family = name.hasPrefix("send") || name.hasPrefix("edit") || messageMethods.contains(name)
            let addressed = fields.contains("chat_id") || (name.hasPrefix("send") && fields.contains("user_id"))
            return family && addressed ? name : nil
        })
        #expect(derived == Set(BotAPIMethods.sendMethods.keys))
        #expect(derived.contains("sendMediaGroup"))
        for name in derived { #expect(BotAPIMethods.isSendMethod(name.lowercased()), "\(name)") }
    }

    @Test func formValuesBecomeJSONWhereTelegramParsesJSON() {
        let markup = BotAPIParameters.fromText(name: "reply_markup", value: #"{"inline_keyboard":[[{"text":"a","callback_data":"b"}]]}"#)
        #expect(markup["inline_keyboard"]?.arrayValue?.count == 1)
        #expect(BotAPIParameters.fromText(name: "media", value: #"[{"type":"photo","media":"attach://p"}]"#).arrayValue?.count == 1)
        // Text stays text, even when it looks like JSON or a number: Telegram reads it as text.
        #expect(BotAPIParameters.fromText(name: "text", value: "{not json") == .string("{not json"))
        #expect(BotAPIParameters.fromText(name: "text", value: "42") == .string("42"))
        #expect(BotAPIParameters.fromText(name: "chat_id", value: "42") == .string("42"))
        #expect(BotAPIParameters.fromText(name: "reply_markup", value: "{broken") == .string("{broken"))
        #expect(BotAPIParameters.fromText(name: "allow_paid_broadcast", value: "true") == .bool(true))
        #expect(BotAPIParameters.fromText(name: "disable_notification", value: "true") == .string("true"))
    }

    @Test func retryAfterEstimateIsQueueOverRate() {
        #expect(QueueEstimate.retryAfter(pending: 1000, perSecond: 30) == 34)
        #expect(QueueEstimate.retryAfter(pending: 1, perSecond: 30) == 1)
        #expect(QueueEstimate.retryAfter(pending: 0, perSecond: 30) == 1)
        #expect(QueueEstimate.retryAfter(pending: 10_000_000, perSecond: 1) == 3600)
    }
}
