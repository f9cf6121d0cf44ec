import FakeTelegram
import Foundation
import Testing

/// Push of inbound updates to the app's URL, set by setWebhook through the relay: signed, in order per chat,
/// at least once across a SIGKILL and a Telegram outage, retried while the app is down, dead-lettered and
/// replayable, at most `max_connections` at once.
@Suite(.serialized)
struct InboundPushTests {
    static func config(_ inbound: [String: Any] = [:]) -> [String: Any] {
        var config = Inbound.config(inbound)
        config["callbacks"] = ["secret": CallbackTests.secret]
        return config
    }

    func setWebhook(_ bed: TestBed, url: String) async throws {
        let answer = try await bed.http.json(
            .POST, bed.relay.baseURL + "/bot\(TestBed.token)/setWebhook", body: ["url": url, "secret_token": "app-secret_1"])
        #expect(answer.status == 200, "\(answer.body)")
    }

    /// Per chat, the update_ids in the order the app received them (2xx answers only).
    static func byChat(_ received: [CallbackReceiver.Received]) -> [Int64: [Int64]] {
        var chats: [Int64: [Int64]] = [:]
        for request in received {
            let json = request.json
            guard let id = (json["update_id"] as? NSNumber)?.int64Value,
                let chat = ((json["message"] as? [String: Any])?["chat"] as? [String: Any])?["id"] as? NSNumber
            else { continue }
            chats[chat.int64Value, default: []].append(id)
        }
        return chats
    }

    @Test func everyUpdateAtLeastOnceInOrderPerChatAcrossACrash() async throws {
        let receiver = CallbackReceiver()
        let base = try await receiver.start()
        let bed = try await TestBed(limits: .off, config: Self.config())
        defer { Task { try await bed.shutdown(); await receiver.stop() } }
        try await setWebhook(bed, url: base + "/updates")
        // The app now gets pushes: getUpdates answers 409 as Telegram's does while a webhook is set.
        let conflict = try await bed.http.json(.GET, bed.relay.baseURL + "/bot\(TestBed.token)/getUpdates")
        #expect(conflict.status == 409)

        // 5,000 updates: while the relay runs, while it is down after a SIGKILL mid-push, and during a
        // Telegram outage.
        var injected = try Inbound.inject(bed.telegram, count: 2000, chats: 20, tag: "push")
        #expect(try await eventually(timeout: .seconds(30)) { receiver.accepted.count >= 500 })
        bed.relay.kill9()
        let beforeCrash = receiver.accepted.count
        injected += try Inbound.inject(bed.telegram, count: 1000, chats: 20, tag: "push-down")
        try await bed.relay.start(http: bed.http)
        var outage = FakeFault(kind: .outage)
        outage.duration = 4
        try bed.telegram.addFault(outage)
        injected += try Inbound.inject(bed.telegram, count: 2000, chats: 20, tag: "push-outage")
        #expect(injected.count == 5000)

        let complete = try await eventually(timeout: .seconds(120), every: .milliseconds(200)) {
            Set(receiver.accepted.compactMap { ($0.json["update_id"] as? NSNumber)?.int64Value }) == Set(injected)
        }
        #expect(complete, "the app received \(receiver.accepted.count) pushes for \(injected.count) updates")
        let accepted = receiver.accepted
        #expect(accepted.allSatisfy(CallbackTests.verifies), "every push is signed")
        #expect(accepted.allSatisfy { $0.headers["x-telegram-bot-api-secret-token"] == "app-secret_1" })
        #expect(accepted.allSatisfy { $0.headers["x-tgrelay-event"] == "update.message" })
        // In order per chat; a repeat only right after the crash, of what was in flight when it happened.
        for (chat, ids) in Self.byChat(accepted) {
            var deduplicated: [Int64] = []
            for id in ids where deduplicated.last != id && !deduplicated.contains(id) { deduplicated.append(id) }
            #expect(deduplicated == deduplicated.sorted(), "chat \(chat) out of order")
        }
        let duplicates = accepted.count - Set(accepted.compactMap { ($0.json["update_id"] as? NSNumber)?.int64Value }).count
        #expect(duplicates <= 32, "at most one per push in flight at the crash, got \(duplicates) (before the crash: \(beforeCrash))")
        #expect(try await bed.inboxStatus()["unconfirmed"] as? Int == 0)
    }

    /// setWebhook's `max_connections` caps the pushes in flight at once (chats in parallel otherwise).
    @Test func pushesInFlightStayWithinMaxConnections() async throws {
        let receiver = CallbackReceiver()
        let base = try await receiver.start()
        receiver.answer(after: .milliseconds(200))
        let bed = try await TestBed(limits: .off, config: Self.config())
        defer { Task { try await bed.shutdown(); await receiver.stop() } }
        let set = try await bed.http.json(
            .POST, bed.relay.baseURL + "/bot\(TestBed.token)/setWebhook", body: ["url": base + "/updates", "max_connections": 2])
        #expect(set.status == 200)
        let info = try await bed.http.json(.GET, bed.relay.baseURL + "/bot\(TestBed.token)/getWebhookInfo")
        #expect((info["result"] as? [String: Any])?["max_connections"] as? Int == 2)
        let ids = try Inbound.inject(bed.telegram, count: 20, chats: 10, tag: "capped")
        #expect(try await eventually(timeout: .seconds(30)) { Set(receiver.accepted.compactMap { ($0.json["update_id"] as? NSNumber)?.int64Value }) == Set(ids) })
        #expect(receiver.mostInProgress == 2, "\(receiver.mostInProgress) pushes at once: the cap, and all of it")
    }

    @Test func failedPushesRetryThenDeadLetterAndReplay() async throws {
        let receiver = CallbackReceiver()
        let base = try await receiver.start()
        let bed = try await TestBed(limits: .off, config: Self.config(["push_give_up_after_seconds": 2]))
        defer { Task { try await bed.shutdown(); await receiver.stop() } }
        try await setWebhook(bed, url: base + "/updates")
        receiver.failAlways(true)
        let ids = try Inbound.inject(bed.telegram, count: 3, chats: 1, tag: "dead")
        #expect(try await eventually(timeout: .seconds(20)) { try await bed.inboxStatus()["push_failed"] as? Int == 3 })
        #expect(receiver.received.count >= 3, "retried before giving up")
        let failed = try await bed.http.json(.GET, bed.api + "/inbox/failed")["failed"] as? [[String: Any]] ?? []
        #expect(Set(failed.compactMap { ($0["update_id"] as? NSNumber)?.int64Value }) == Set(ids))
        #expect(failed.allSatisfy { $0["last_error"] as? String == "HTTP 503" })

        receiver.failAlways(false)
        let replay = try await bed.http.json(.POST, bed.api + "/inbox/default/replay", body: [String: Any]())
        #expect(replay["replayed"] as? Int == 3)
        #expect(try await eventually(timeout: .seconds(10)) { receiver.accepted.count == 3 })
        #expect(Self.byChat(receiver.accepted).values.first == ids, "replayed in order")
        let unknown = try await bed.http.json(.POST, bed.api + "/inbox/nobody/replay", body: [String: Any]())
        #expect(unknown.status == 404)

        // deleteWebhook through the relay: back to getUpdates.
        let deleted = try await bed.http.json(.POST, bed.relay.baseURL + "/bot\(TestBed.token)/deleteWebhook")
        #expect(deleted.status == 200)
        let more = try Inbound.inject(bed.telegram, count: 2, chats: 1, tag: "after")
        let url = bed.relay.baseURL + "/bot\(TestBed.token)/getUpdates"
        #expect(try await eventually(timeout: .seconds(10)) {
            let result = try await bed.http.json(.GET, url)["result"] as? [[String: Any]] ?? []
            return result.compactMap { ($0["update_id"] as? NSNumber)?.int64Value } == more
        })
    }
}
