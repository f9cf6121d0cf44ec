import FakeTelegram
import Foundation
import Testing

@testable import TGRelayServer

/// Fallbacks end to end: a message still undelivered after N seconds is POSTed, signed, to its fallback
/// URL exactly once — across `kill -9` — while its Telegram delivery continues (or is cancelled).
@Suite(.serialized)
struct FallbackTests {
    static func config(bot: [String: Any]? = nil) -> [String: Any] {
        var extra: [String: Any] = ["callbacks": ["secret": CallbackTests.secret]]
        if let bot { extra["bot"] = bot }
        // Enough attempts that a lone message rides out the short outages below instead of being dead-lettered.
        return REST.config(extra, options: ["max_attempts": 20])
    }

    func withReceiver(_ body: (CallbackReceiver, String) async throws -> Void) async throws {
        let receiver = CallbackReceiver()
        let base = try await receiver.start()
        do {
            try await body(receiver, base)
        } catch {
            await receiver.stop()
            throw error
        }
        await receiver.stop()
    }

    /// A Telegram outage of `seconds`, so messages stay undelivered meanwhile.
    func outage(_ bed: TestBed, seconds: Double) throws {
        var outage = FakeFault(kind: .outage)
        outage.duration = seconds
        try bed.telegram.addFault(outage)
    }

    func fallbacks(_ receiver: CallbackReceiver) -> [CallbackReceiver.Received] {
        receiver.received.filter { $0.headers["x-tgrelay-event"] == "message.fallback" }
    }

    @Test func anUndeliveredMessageFallsBackOnceAndIsStillDeliveredLater() async throws {
        try await withReceiver { receiver, base in
            let bed = try await TestBed.rest(config: Self.config())
            defer { Task { try await bed.shutdown() } }
            try outage(bed, seconds: 6)
            let id = try await bed.send(
                chat: 701, text: "Your code: 1234", extra: ["fallback_url": base + "/sms", "fallback_after_seconds": 1])
            #expect(try await eventually(timeout: .seconds(10)) { !fallbacks(receiver).isEmpty })
            let request = try #require(fallbacks(receiver).first)
            #expect(CallbackTests.verifies(request))
            #expect(request.path == "sms")
            let json = request.json
            #expect(json["id"] as? Int == id)
            #expect(json["event"] as? String == "fallback")
            #expect(json["method"] as? String == "sendMessage")
            #expect((json["params"] as? [String: Any])?["text"] as? String == "Your code: 1234")
            #expect(["queued", "waiting", "sending"].contains(json["status"] as? String ?? ""))
            #expect(json["delivery_cancelled"] as? Bool == false)
            #expect(json["callback_id"] is Int)

            #expect(try await bed.waitFinal([id], timeout: .seconds(30))[id]?["status"] as? String == "delivered")
            #expect(bed.deliveredTexts(chat: "701") == ["Your code: 1234"])
            try await Task.sleep(for: .seconds(1))
            #expect(fallbacks(receiver).count == 1, "exactly one fallback")
            let outbox = try await bed.http.json(.GET, bed.api + "/callbacks?message_id=\(id)")["callbacks"] as? [[String: Any]]
            #expect(outbox?.map { $0["event"] as? String } == ["message.fallback"])
            #expect(outbox?.first?["status"] as? String == "delivered")
        }
    }

    @Test func aMessageDeliveredInTimeSendsNoFallback() async throws {
        try await withReceiver { receiver, base in
            let bed = try await TestBed.rest(config: Self.config())
            defer { Task { try await bed.shutdown() } }
            let id = try await bed.send(chat: 711, text: "fast", extra: ["fallback_url": base + "/sms", "fallback_after_seconds": 1])
            #expect(try await bed.waitFinal([id])[id]?["status"] as? String == "delivered")
            var outbox: [[String: Any]] = []
            #expect(try await eventually(timeout: .seconds(10)) {
                outbox = try await bed.http.json(.GET, bed.api + "/callbacks?message_id=\(id)")["callbacks"] as? [[String: Any]] ?? []
                return outbox.first?["status"] as? String == "skipped"
            })
            #expect(receiver.received.isEmpty)
        }
    }

    @Test func cancelOnFallbackStopsTheTelegramDelivery() async throws {
        try await withReceiver { receiver, base in
            let bed = try await TestBed.rest(config: Self.config())
            defer { Task { try await bed.shutdown() } }
            try outage(bed, seconds: 4)
            let id = try await bed.send(
                chat: 721, text: "page the on-call",
                extra: ["fallback_url": base + "/sms", "fallback_after_seconds": 1, "cancel_on_fallback": true])
            #expect(try await eventually(timeout: .seconds(10)) { !fallbacks(receiver).isEmpty })
            let json = try #require(fallbacks(receiver).first).json
            // A send in flight when the fallback is due is not recalled; the outage makes that unlikely but possible.
            if json["delivery_cancelled"] as? Bool == true {
                #expect(json["status"] as? String == "cancelled")
                let final = try await bed.waitFinal([id])[id]
                #expect(final?["status"] as? String == "cancelled")
                #expect(final?["last_error"] as? String == "cancelled on fallback")
                try await Task.sleep(for: .seconds(5))
                #expect(bed.deliveredTexts(chat: "721").isEmpty, "never sent after the outage")
            } else {
                #expect(json["status"] as? String == "sending")
            }
        }
    }

    @Test func theBotsDefaultsApplyAndAMessageOverridesThem() async throws {
        try await withReceiver { receiver, base in
            let bed = try await TestBed.rest(config: Self.config(bot: ["fallback_url": base + "/bot", "fallback_after_seconds": 1]))
            defer { Task { try await bed.shutdown() } }
            try outage(bed, seconds: 4)
            let byBot = try await bed.send(chat: 731, text: "bot default")
            let own = try await bed.send(chat: 732, text: "own url", extra: ["fallback_url": base + "/own"])
            #expect(try await eventually(timeout: .seconds(10)) { fallbacks(receiver).count == 2 })
            let byPath = Dictionary(grouping: fallbacks(receiver), by: \.path)
            #expect(byPath["bot"]?.map { $0.json["id"] as? Int } == [byBot])
            #expect(byPath["own"]?.map { $0.json["id"] as? Int } == [own])
        }
    }

    @Test func aFallbackDueWhileTheRelayIsDeadIsSentOnceAfterRestart() async throws {
        try await withReceiver { receiver, base in
            let bed = try await TestBed.rest(config: Self.config())
            defer { Task { try await bed.shutdown() } }
            try outage(bed, seconds: 8)
            let id = try await bed.send(chat: 741, text: "due during the crash", extra: ["fallback_url": base + "/sms", "fallback_after_seconds": 2])
            bed.relay.kill9()
            try await Task.sleep(for: .seconds(3))
            try await bed.relay.start(http: bed.http)
            #expect(try await eventually(timeout: .seconds(10)) { fallbacks(receiver).count == 1 })
            #expect(try await bed.waitFinal([id], timeout: .seconds(30))[id]?["status"] as? String == "delivered")
            try await Task.sleep(for: .seconds(1))
            #expect(fallbacks(receiver).count == 1)
            #expect(fallbacks(receiver).first?.json["id"] as? Int == id)
        }
    }

    @Test func aClaimedFallbackSurvivesKill9BeforeItsPOSTSucceeds() async throws {
        try await withReceiver { receiver, base in
            let bed = try await TestBed.rest(config: Self.config())
            defer { Task { try await bed.shutdown() } }
            try outage(bed, seconds: 8)
            receiver.failAlways(true)
            let id = try await bed.send(chat: 751, text: "claimed, then crash", extra: ["fallback_url": base + "/sms", "fallback_after_seconds": 1])
            #expect(try await eventually(timeout: .seconds(10)) { !fallbacks(receiver).isEmpty })
            bed.relay.kill9()
            receiver.failAlways(false)
            try await bed.relay.start(http: bed.http)
            #expect(try await eventually(timeout: .seconds(20)) { receiver.accepted.count == 1 })
            try await Task.sleep(for: .seconds(2))
            let all = fallbacks(receiver)
            #expect(receiver.accepted.count == 1, "one fallback acknowledged")
            #expect(Set(all.map(\.body)).count == 1, "every try, before and after the crash, is the same fallback")
            #expect(all.first?.json["id"] as? Int == id)
            #expect(all.allSatisfy(CallbackTests.verifies))
        }
    }

    @Test func fallbackFieldsAreValidated() async throws {
        let bed = try await TestBed.rest(config: Self.config())
        defer { Task { try await bed.shutdown() } }
        let cases: [([String: Any], String, String)] = [
            (["fallback_url": "ftp://x", "fallback_after_seconds": 5], "invalid_field", "fallback_url"),
            (["fallback_url": 5, "fallback_after_seconds": 5], "invalid_field", "fallback_url"),
            (["fallback_after_seconds": 5], "invalid_field", "fallback_url"),
            (["cancel_on_fallback": true], "invalid_field", "fallback_url"),
            (["fallback_url": "http://127.0.0.1:9/x"], "invalid_field", "fallback_after_seconds"),
            (["fallback_url": "http://127.0.0.1:9/x", "fallback_after_seconds": 0], "invalid_field", "fallback_after_seconds"),
            (["fallback_url": "http://127.0.0.1:9/x", "fallback_after_seconds": "5"], "invalid_field", "fallback_after_seconds"),
            (["fallback_url": "http://127.0.0.1:9/x", "fallback_after_seconds": 5, "cancel_on_fallback": "yes"], "invalid_field", "cancel_on_fallback"),
        ]
        for (extra, code, field) in cases {
            var body: [String: Any] = ["chat_id": 1, "text": "x"]
            body.merge(extra) { $1 }
            let response = try await bed.post("/messages", body)
            #expect(response.status == 400, "\(extra)")
            #expect(response.error["code"] as? String == code, "\(extra)")
            #expect(response.error["field"] as? String == field, "\(extra)")
        }
        let batch = try await bed.post("/messages/batch", ["messages": [
            ["chat_id": 1, "text": "ok"], ["chat_id": 2, "text": "bad", "fallback_url": "http://127.0.0.1:9/x"],
        ]])
        #expect(batch.status == 400)
        #expect(batch.error["field"] as? String == "messages[1].fallback_after_seconds")
        #expect(try await bed.http.json(.GET, bed.api + "/status")["bots"] != nil)
    }

    @Test func withoutASecretAFallbackURLIsRefused() async throws {
        let bed = try await TestBed.rest()
        defer { Task { try await bed.shutdown() } }
        let response = try await bed.post("/messages", ["chat_id": 1, "text": "x", "fallback_url": "http://127.0.0.1:9/x", "fallback_after_seconds": 5])
        #expect(response.status == 400)
        #expect(response.error["code"] as? String == "callbacks_not_configured")
        #expect(response.error["field"] as? String == "fallback_url")
    }
}
