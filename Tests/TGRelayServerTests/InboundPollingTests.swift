import FakeTelegram
import Foundation
import GRDB
import TGRelayStore
import Testing

/// Inbound updates by long polling, end to end: 5,000 updates injected into the simulator while the relay
/// runs, while it is killed with SIGKILL in the middle of a batch, and during a Telegram outage; an app
/// reading them through the relay's getUpdates sees each exactly once, in update_id order.
@Suite(.serialized)
struct InboundPollingTests {
    @Test func everyUpdateOnceInOrderThroughCrashAndOutage() async throws {
        let bed = try await TestBed(limits: .off, config: Inbound.config())
        defer { Task { try await bed.shutdown() } }
        let consumer = GetUpdatesConsumer()
        consumer.start(bed: bed)
        var injected: [Int64] = []

        // Up: the relay polls while updates arrive.
        for _ in 0..<10 { injected += try Inbound.inject(bed.telegram, count: 200, tag: "up") }
        #expect(try await eventually(timeout: .seconds(30)) { consumer.updateIDs.count >= 1000 })

        // Down: killed while batches are being stored; more arrive while it is down.
        injected += try Inbound.inject(bed.telegram, count: 1000, tag: "before-kill")
        try await Task.sleep(for: .milliseconds(150))
        bed.relay.kill9()
        injected += try Inbound.inject(bed.telegram, count: 500, tag: "down")
        // Nothing was confirmed to Telegram that the relay had not committed: whatever the store lacks is
        // still pending at Telegram.
        let store = try await bed.openStore()
        let pendingAtTelegram = Set(bed.telegram.pendingUpdates(bot: TestBed.botID).compactMap { $0["update_id"]?.intValue })
        var missing: [Int64] = []
        for id in injected where !pendingAtTelegram.contains(id) {
            if try await store.storedUpdate(bot: "default", updateID: id) == nil { missing.append(id) }
        }
        try await store.close()
        #expect(missing.isEmpty, "confirmed to Telegram but not committed: \(missing.prefix(10))")
        try await bed.relay.start(http: bed.http)

        // Outage: Telegram answers 502 for a while; updates keep arriving.
        var outage = FakeFault(kind: .outage)
        outage.duration = 4
        try bed.telegram.addFault(outage)
        for _ in 0..<5 { injected += try Inbound.inject(bed.telegram, count: 300, tag: "outage") }
        #expect(injected.count == 5000)

        let complete = try await eventually(timeout: .seconds(90), every: .milliseconds(200)) { consumer.updateIDs.count >= 5000 }
        try await Task.sleep(for: .milliseconds(500))
        await consumer.stop()
        let seen = consumer.updateIDs
        #expect(complete, "the consumer saw \(seen.count) of 5000")
        #expect(seen == injected.sorted(), "each update exactly once, in update_id order")
        #expect(bed.telegram.pendingUpdates(bot: TestBed.botID).isEmpty, "the relay confirmed everything it stored")

        let inbox = try await bed.inboxStatus()
        #expect(inbox["stored"] as? Int == 5000)
        #expect(inbox["unconfirmed"] as? Int == 0)
        #expect((inbox["last_update_id"] as? NSNumber)?.int64Value == injected.max())
        #expect(inbox["mode"] as? String == "polling")
    }

    /// TELEGRAM.md: after a week without updates Telegram's ids may start again from a random value. The
    /// relay, restarted after such a week, must neither confirm the new updates unseen (an offset above
    /// them) nor hide them from an app whose offset is above them.
    @Test func updateIDsRestartedByTelegramStillReachTheApp() async throws {
        let bed = try await TestBed(limits: .off, config: Inbound.config())
        defer { Task { try await bed.shutdown() } }
        let consumer = GetUpdatesConsumer()
        consumer.start(bed: bed)
        let before = try Inbound.inject(bed.telegram, count: 50, tag: "before")
        #expect(try await eventually(timeout: .seconds(30)) {
            consumer.updateIDs.count == 50 && bed.telegram.pendingUpdates(bot: TestBed.botID).isEmpty
        })

        // The quiet week passes while the relay is down: its store last received an update 8 days ago…
        bed.relay.kill9()
        let queue = try DatabaseQueue(path: bed.relay.databasePath)
        try await queue.write { db in
            try db.execute(sql: "UPDATE inbox_bot SET last_received_at = last_received_at - ?", arguments: [8 * 86_400_000])
        }
        try await queue.close()
        // …and Telegram's ids start again far below the old ones.
        let restart = try #require(before.min()) / 2
        var after = [try #require(try bed.telegram.injectUpdate(bot: TestBed.botID, update: [
            "update_id": .int(restart),
            "message": ["message_id": 1, "date": 0, "chat": ["id": 70_001, "type": "private"], "text": "restarted"],
        ]))]
        after += try Inbound.inject(bed.telegram, count: 49, tag: "after")
        #expect(after.first == restart && after.max()! < before.min()!)
        try await bed.relay.start(http: bed.http)

        #expect(try await eventually(timeout: .seconds(30)) { consumer.updateIDs.count >= 100 })
        #expect(try await eventually(timeout: .seconds(10)) { bed.telegram.pendingUpdates(bot: TestBed.botID).isEmpty })
        await consumer.stop()
        let seen = consumer.updateIDs
        #expect(seen.count == 100, "each update exactly once")
        #expect(Array(seen.prefix(50)) == before)
        #expect(zip(seen, seen.dropFirst()).allSatisfy { $0 < $1 }, "the app's ids keep growing")
        #expect(consumer.texts.suffix(50) == ["restarted"] + (0..<49).map { "after \($0)" }, "in Telegram's order")
    }

    @Test func getUpdatesFollowsTelegramsSemantics() async throws {
        let bed = try await TestBed(limits: .off, config: Inbound.config())
        defer { Task { try await bed.shutdown() } }
        let ids = try Inbound.inject(bed.telegram, count: 5, tag: "semantics")
        let url = bed.relay.baseURL + "/bot\(TestBed.token)/getUpdates"
        func updateIDs(_ answer: JSONResponse) -> [Int64] {
            (answer["result"] as? [[String: Any]] ?? []).compactMap { ($0["update_id"] as? NSNumber)?.int64Value }
        }
        #expect(try await eventually(timeout: .seconds(10)) { updateIDs(try await bed.http.json(.GET, url)) == ids })
        // limit, and an offset that confirms: confirmed updates never come back.
        #expect(updateIDs(try await bed.http.json(.GET, url + "?limit=2")) == Array(ids.prefix(2)))
        #expect(updateIDs(try await bed.http.json(.POST, url, body: ["offset": ids[2]])) == Array(ids.suffix(3)))
        #expect(updateIDs(try await bed.http.json(.GET, url)) == Array(ids.suffix(3)))
        // The consumer's lag in /metrics as in /v1/status.
        let scrape = try #require(try await bed.http.json(.GET, bed.relay.baseURL + "/metrics").body as? String)
        let metrics = PrometheusText(scrape)
        #expect(metrics["tgrelay_inbox_stored", ["bot": "default"]] == 5, "\(scrape)")
        #expect(metrics["tgrelay_inbox_unconfirmed", ["bot": "default"]] == 3)
        #expect((metrics["tgrelay_inbox_oldest_unconfirmed_seconds", ["bot": "default"]] ?? -1) >= 0)
        #expect(metrics["tgrelay_inbox_push_failed", ["bot": "default"]] == 0)
        // Form-encoded, as many libraries send it.
        let form = try await bed.http.json(.POST, url, rawBody: "offset=\(ids[4])&limit=10", headers: ["Content-Type": "application/x-www-form-urlencoded"])
        #expect(updateIDs(form) == [ids[4]])

        // A long poll returns as soon as an update arrives.
        let started = Date()
        async let waiting = bed.http.json(.POST, url, body: ["offset": ids[4] + 1, "timeout": 10])
        try await Task.sleep(for: .milliseconds(300))
        let next = try Inbound.inject(bed.telegram, count: 1, tag: "late")
        #expect(updateIDs(try await waiting) == next)
        #expect(Date().timeIntervalSince(started) < 8)

        // Two concurrent polls: the older one is answered 409.
        async let older = bed.http.json(.POST, url, body: ["offset": next[0] + 1, "timeout": 5])
        try await Task.sleep(for: .milliseconds(300))
        async let newer = bed.http.json(.POST, url, body: ["offset": next[0] + 1, "timeout": 1])
        let (first, second) = try await (older, newer)
        #expect(first.status == 409)
        #expect((first["description"] as? String)?.hasPrefix("Conflict: terminated by other getUpdates request") == true)
        #expect(second.status == 200)

        let wrongToken = try await bed.http.json(.GET, bed.relay.baseURL + "/bot999:nope/getUpdates")
        #expect(wrongToken.status == 401)
        #expect(wrongToken["ok"] as? Bool == false)
    }

    /// A webhook set at Telegram by someone else makes the relay's getUpdates answer 409: the relay raises
    /// `polling_conflict`, backs off instead of polling in a tight loop, and resumes (alert resolved) once the
    /// webhook is gone, losing nothing.
    @Test func aPollingConflictRaisesTheAlertAndBacksOff() async throws {
        let bed = try await TestBed(limits: .off, config: Inbound.config(["poll_max_backoff_seconds": 2]))
        defer { Task { try await bed.shutdown() } }
        let direct = bed.telegram.baseURL + "/bot\(TestBed.token)"
        #expect(try await bed.http.json(.POST, direct + "/setWebhook", body: ["url": "https://127.0.0.1:9/elsewhere"]).status == 200)
        func pollingConflicts() async throws -> Int {
            let alerts = try await bed.http.json(.GET, bed.api + "/status")["alerts"] as? [[String: Any]] ?? []
            return alerts.filter { $0["alert"] as? String == "polling_conflict" }.count
        }
        #expect(try await eventually(timeout: .seconds(15)) { try await pollingConflicts() == 1 })
        #expect(try await bed.inboxStatus()["polling_conflict_since"] is String)
        let before = bed.telegram.stats().requestsByMethod["getUpdates"] ?? 0
        try await Task.sleep(for: .seconds(4))
        let during = (bed.telegram.stats().requestsByMethod["getUpdates"] ?? 0) - before
        #expect(during <= 4, "\(during) polls in 4 s while in conflict: at least 2 s apart (poll_max_backoff_seconds), never a tight loop")

        #expect(try await bed.http.json(.POST, direct + "/deleteWebhook").status == 200)
        let ids = try Inbound.inject(bed.telegram, count: 3, tag: "after the conflict")
        #expect(try await eventually(timeout: .seconds(15)) { try await pollingConflicts() == 0 })
        let url = bed.relay.baseURL + "/bot\(TestBed.token)/getUpdates"
        #expect(try await eventually(timeout: .seconds(10)) {
            (try await bed.http.json(.GET, url)["result"] as? [[String: Any]] ?? []).compactMap { ($0["update_id"] as? NSNumber)?.int64Value } == ids
        })
        #expect(try await bed.inboxStatus()["polling_conflict_since"] == nil)
    }

    /// The app's `allowed_updates` is kept in the store: the relay asks Telegram for those types (here
    /// `chat_member`, which Telegram leaves out by default), and still does after a SIGKILL and restart,
    /// when the app polls without repeating it.
    @Test func theAppsAllowedUpdatesAreKeptAndAskedOfTelegram() async throws {
        let bed = try await TestBed(limits: .off, config: Inbound.config())
        defer { Task { try await bed.shutdown() } }
        let url = bed.relay.baseURL + "/bot\(TestBed.token)/getUpdates"
        func member(_ user: Int64) -> FakeJSON {
            [
                "chat": ["id": -4711, "type": "group", "title": "G"], "from": ["id": 1, "is_bot": false, "first_name": "A"], "date": 1,
                "old_chat_member": ["status": "left", "user": ["id": .int(user), "is_bot": false, "first_name": "U"]],
                "new_chat_member": ["status": "member", "user": ["id": .int(user), "is_bot": false, "first_name": "U"]],
            ]
        }
        func types(_ answer: JSONResponse) -> [String] {
            (answer["result"] as? [[String: Any]] ?? []).compactMap { $0.keys.first { $0 != "update_id" } }
        }
        #expect(try bed.telegram.injectUpdate(bot: TestBed.botID, update: ["chat_member": member(1)]) == nil, "Telegram's default")
        let asked = try await bed.http.json(.POST, url, body: ["allowed_updates": ["message", "chat_member"]])
        #expect(asked.status == 200)
        // Once the relay's next poll carried the types, Telegram creates chat_member updates.
        #expect(try await eventually(timeout: .seconds(10)) {
            try bed.telegram.injectUpdate(bot: TestBed.botID, update: ["chat_member": member(2)]) != nil
        })
        #expect(try await eventually(timeout: .seconds(10)) { types(try await bed.http.json(.GET, url)) == ["chat_member"] })

        bed.relay.kill9()
        // Telegram back to its default (a getUpdates without offset confirms nothing), then the restart.
        _ = try await bed.http.json(.POST, bed.telegram.baseURL + "/bot\(TestBed.token)/getUpdates", body: ["allowed_updates": [String](), "limit": 1])
        #expect(try bed.telegram.injectUpdate(bot: TestBed.botID, update: ["chat_member": member(9)]) == nil)
        try await bed.relay.start(http: bed.http)
        #expect(try await eventually(timeout: .seconds(10)) {
            try bed.telegram.injectUpdate(bot: TestBed.botID, update: ["chat_member": member(3)]) != nil
        }, "the restarted relay asked for the app's types again")
        _ = try Inbound.inject(bed.telegram, count: 1, tag: "message")
        #expect(try await eventually(timeout: .seconds(10)) { types(try await bed.http.json(.GET, url)) == ["chat_member", "chat_member", "message"] })
    }

    /// A bot whose own `bot.inbound.enabled` is off keeps talking to Telegram directly although inbound is
    /// on by default: the relay does not poll it, and its getUpdates passes through.
    @Test func aBotWithInboundOffIsNotPolledAndItsGetUpdatesPassesThrough() async throws {
        var config = Inbound.config()
        config["bot"] = ["inbound": ["enabled": false]]
        let bed = try await TestBed(limits: .off, config: config)
        defer { Task { try await bed.shutdown() } }
        let ids = try Inbound.inject(bed.telegram, count: 2, tag: "direct")
        try await Task.sleep(for: .seconds(1))
        #expect(bed.telegram.pendingUpdates(bot: TestBed.botID).count == 2, "the relay took nothing")
        let answer = try await bed.http.json(.GET, bed.relay.baseURL + "/bot\(TestBed.token)/getUpdates")
        #expect((answer["result"] as? [[String: Any]] ?? []).compactMap { ($0["update_id"] as? NSNumber)?.int64Value } == ids)
        #expect(try await bed.inboxStatus().isEmpty)
    }

    @Test func unblockingUpdateReactivatesTheChatForOutbound() async throws {
        let bed = try await TestBed(limits: .off, config: Inbound.config())
        defer { Task { try await bed.shutdown() } }
        var blocked = FakeFault(kind: .blocked)
        blocked.chat = "4242"
        let fault = try bed.telegram.addFault(blocked)
        let first = try await bed.send(chat: 4242, text: "while blocked")
        #expect(try await bed.waitFinal([first])[first]?["status"] as? String == "failed")
        let inactive = try await bed.http.json(.GET, bed.api + "/chats/inactive")["inactive_chats"] as? [[String: Any]] ?? []
        #expect(inactive.count == 1)

        // The user unblocks the bot: Telegram sends my_chat_member from kicked to member.
        bed.telegram.removeFault(id: fault)
        let member: FakeJSON = [
            "chat": ["id": 4242, "type": "private"], "from": ["id": 4242, "is_bot": false, "first_name": "U"], "date": 1,
            "old_chat_member": ["status": "kicked", "user": ["id": .int(TestBed.botID), "is_bot": true, "first_name": "B"]],
            "new_chat_member": ["status": "member", "user": ["id": .int(TestBed.botID), "is_bot": true, "first_name": "B"]],
        ]
        try bed.telegram.injectUpdate(bot: TestBed.botID, update: ["my_chat_member": member])
        #expect(try await eventually(timeout: .seconds(10)) {
            (try await bed.http.json(.GET, bed.api + "/chats/inactive")["inactive_chats"] as? [[String: Any]])?.isEmpty == true
        })
        let second = try await bed.send(chat: 4242, text: "after unblocking")
        #expect(try await bed.waitFinal([second])[second]?["status"] as? String == "delivered")
    }
}
