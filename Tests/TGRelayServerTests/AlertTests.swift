import AsyncHTTPClient
import FakeTelegram
import Foundation
import Logging
import TGRelayStore
import TelegramBotAPI
import Testing

@testable import TGRelayServer

/// Alerts end to end: each rule's alert is raised once and resolved once at the signed webhook, logged,
/// and shown in `/v1/status` while it holds.
@Suite(.serialized)
struct AlertTests {
    static func config() -> [String: Any] {
        REST.config(
            ["callbacks": ["secret": CallbackTests.secret]],
            options: ["max_attempts": 20, "unauthorized_pause_seconds": 1])
    }

    func withWebhook(
        _ alerts: [String: Any], _ body: (TestBed, CallbackReceiver) async throws -> Void
    ) async throws {
        let receiver = CallbackReceiver()
        let base = try await receiver.start()
        do {
            var config = Self.config()
            config["alerts"] = alerts.merging(["webhook_url": base + "/alerts", "evaluate_every_seconds": 0.2]) { $1 }
            let bed = try await TestBed.rest(config: config)
            defer { Task { try await bed.shutdown() } }
            try await body(bed, receiver)
        } catch {
            await receiver.stop()
            throw error
        }
        await receiver.stop()
    }

    /// `alert:state` of every POST, in order.
    func posted(_ receiver: CallbackReceiver) -> [String] {
        receiver.received.map { "\($0.json["alert"] as? String ?? "?"):\($0.json["state"] as? String ?? "?")" }
    }

    /// `tgrelay_alerts_active` of the default bot for one alert kind, scraped from `/metrics`.
    private func alertGauge(_ bed: TestBed, _ kind: String) async throws -> Double? {
        let scrape = try await bed.http.json(.GET, bed.relay.baseURL + "/metrics", headers: bed.authorization)
        return PrometheusText(scrape.body as? String ?? "")["tgrelay_alerts_active", ["bot": "default", "alert": kind]]
    }

    func activeAlerts(_ bed: TestBed) async throws -> [String] {
        let alerts = try await bed.http.json(.GET, bed.api + "/status")["alerts"] as? [[String: Any]] ?? []
        return alerts.compactMap { $0["alert"] as? String }
    }

    /// Every POST is signed, announces its event, and pairs a raise with a resolve of the same occurrence.
    func checkPairs(_ receiver: CallbackReceiver, kinds: Set<String>) throws {
        let received = receiver.received
        #expect(received.allSatisfy(CallbackTests.verifies))
        for request in received {
            #expect(request.headers["x-tgrelay-event"] == "alert.\(request.json["state"] as? String ?? "")")
        }
        #expect(Set(posted(receiver)) == Set(kinds.flatMap { ["\($0):raised", "\($0):resolved"] }))
        #expect(posted(receiver).count == kinds.count * 2, "each raised once and resolved once: \(posted(receiver))")
        let ids = Dictionary(grouping: received, by: { $0.json["id"] as? String ?? "" })
        #expect(ids.values.allSatisfy { $0.count == 2 }, "a raise and its resolve share the occurrence id")
    }

    @Test func anOutageRaisesAndResolvesQueueDepthAndCircuitAlertsOnce() async throws {
        try await withWebhook(["queue_depth": 20, "circuit_open_seconds": 1]) { bed, receiver in
            var outage = FakeFault(kind: .outage)
            outage.duration = 6
            try bed.telegram.addFault(outage)
            let messages = (0..<30).map { ["chat_id": 800 + $0, "text": "queued \($0)"] }
            #expect(try await bed.post("/messages/batch", ["messages": messages]).status == 202)
            #expect(try await eventually(timeout: .seconds(10)) { Set(posted(receiver)).isSuperset(of: ["queue_depth:raised", "circuit_open:raised"]) })
            #expect(Set(try await activeAlerts(bed)).isSuperset(of: ["queue_depth", "circuit_open"]))
            #expect(try await alertGauge(bed, "queue_depth") == 1)
            #expect(try await alertGauge(bed, "circuit_open") == 1)
            #expect(try await alertGauge(bed, "token_revoked") == 0)
            let circuit = receiver.received.first { $0.json["alert"] as? String == "circuit_open" }?.json
            #expect(circuit?["endpoint"] as? String == bed.telegram.baseURL)
            #expect(circuit?["bot"] as? String == "default")
            #expect(try await eventually(timeout: .seconds(30)) { posted(receiver).count == 4 })
            try await Task.sleep(for: .seconds(1))
            try checkPairs(receiver, kinds: ["queue_depth", "circuit_open"])
            #expect(try await activeAlerts(bed).isEmpty)
            #expect(try await alertGauge(bed, "queue_depth") == 0, "a resolved alert reads 0 in /metrics")
            #expect(try await alertGauge(bed, "circuit_open") == 0)
            #expect(bed.relay.logText.contains("alert raised"))
            #expect(bed.relay.logText.contains("alert resolved"))
        }
    }

    @Test func aRevokedTokenIsAlertedUntilASendSucceeds() async throws {
        try await withWebhook([:]) { bed, receiver in
            var revoked = FakeFault(kind: .revokedToken)
            revoked.duration = 2
            try bed.telegram.addFault(revoked)
            let id = try await bed.send(chat: 811, text: "waits for a new token")
            #expect(try await eventually(timeout: .seconds(10)) { posted(receiver) == ["token_revoked:raised"] })
            #expect(try await activeAlerts(bed) == ["token_revoked"])
            #expect(try await bed.waitFinal([id], timeout: .seconds(20))[id]?["status"] as? String == "delivered")
            #expect(try await eventually(timeout: .seconds(10)) { posted(receiver).count == 2 })
            try await Task.sleep(for: .seconds(1))
            try checkPairs(receiver, kinds: ["token_revoked"])
            #expect(!bed.relay.logText.contains(TestBed.token))
        }
    }

    @Test func growingDeadLettersAreAlertedAndAReplayResolvesThem() async throws {
        try await withWebhook(["dead_letters_per_hour": 3]) { bed, receiver in
            var notFound = FakeFault(kind: .chatNotFound)
            notFound.count = 4
            try bed.telegram.addFault(notFound)
            var ids: [Int] = []
            for chat in 0..<4 { ids.append(try await bed.send(chat: 820 + chat, text: "lost \(chat)")) }
            #expect(try await bed.waitFinal(ids).values.allSatisfy { $0["status"] as? String == "failed" })
            #expect(try await eventually(timeout: .seconds(10)) { posted(receiver) == ["dead_letters_growing:raised"] })
            #expect(try await bed.post("/dead-letters/replay", [String: Any]()).status == 200)
            #expect(try await eventually(timeout: .seconds(10)) { posted(receiver).count == 2 })
            try await Task.sleep(for: .seconds(1))
            try checkPairs(receiver, kinds: ["dead_letters_growing"])
        }
    }

    /// The API the updates poller uses: a polling conflict is raised and resolved through the monitor, and
    /// its webhook POSTs are owed in the store.
    @Test func aPollingConflictIsRaisedAndResolvedThroughTheMonitor() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try await makeStore(.sqlite(path: directory.appendingPathComponent("alerts.sqlite").path))
        let (dispatcher, monitor) = Self.node(store)
        // Alerts are watched by the node holding the bot's lease.
        try await dispatcher.takeOver("default")

        await monitor.setPollingConflict(bot: "default", detail: "Conflict: terminated by other getUpdates request")
        await monitor.evaluate(now: Date())
        await monitor.evaluate(now: Date())
        #expect(await monitor.activeAlerts.map(\.key.kind) == [.pollingConflict])
        await monitor.setPollingConflict(bot: "default", detail: nil)
        await monitor.evaluate(now: Date())
        #expect(await monitor.activeAlerts.isEmpty)

        let owed = try await store.callbacks(state: .pending, limit: 10).reversed()
        #expect(owed.map(\.event) == [.alertRaised, .alertResolved])
        #expect(owed.allSatisfy { $0.url == "http://127.0.0.1:9/alerts" && $0.bot == "default" })
        let bodies = owed.compactMap { $0.payload.flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] } }
        #expect(bodies.map { $0["alert"] as? String } == ["polling_conflict", "polling_conflict"])
        #expect(bodies.first?["detail"] as? String == "Conflict: terminated by other getUpdates request")
        #expect(bodies.last?["resolved_at"] is String)
        try await store.close()
    }

    /// A bot moving to another node: the old holder closes the occurrence it announced (`handed_over`), the
    /// new one announces its own, and every announced raise gets its resolution.
    @Test func aBotMovingToAnotherNodeClosesItsAlertThereAndRaisesItHere() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try await makeStore(.sqlite(path: directory.appendingPathComponent("alerts.sqlite").path))
        let nodes = [Self.node(store), Self.node(store)]
        let conflict = "Conflict: terminated by other getUpdates request"
        let start = Date()
        try await nodes[0].0.takeOver("default")
        // Each node's rules run on its own schedule: the two see the conflict begin at different times.
        for (index, (_, monitor)) in nodes.enumerated() {
            await monitor.setPollingConflict(bot: "default", detail: conflict)
            await monitor.evaluate(now: start.addingTimeInterval(Double(index) * 0.5))
        }
        // The lease moves from the first node to the second while the conflict holds.
        nodes[0].0.ownership.set("default", owned: false)
        try await nodes[1].0.takeOver("default")
        for (_, monitor) in nodes {
            await monitor.evaluate(now: start.addingTimeInterval(2))
        }
        await nodes[1].1.setPollingConflict(bot: "default", detail: nil)
        await nodes[1].1.evaluate(now: start.addingTimeInterval(3))

        let owed = try await store.callbacks(state: .pending, limit: 10).reversed()
        #expect(owed.map(\.event) == [.alertRaised, .alertResolved, .alertRaised, .alertResolved])
        let bodies = owed.compactMap { $0.payload.flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] } }
        #expect(bodies.map { $0["handed_over"] as? Bool } == [nil, true, nil, nil])
        let ids = bodies.map { $0["id"] as? String ?? "" }
        #expect(ids[0] == ids[1] && ids[2] == ids[3] && ids[0] != ids[2], "\(ids)")
        try await store.close()
    }

    /// A node's dispatcher and alert monitor for bot "default" on `store`, POSTing alerts to a dead address
    /// (the POSTs are only owed in the store).
    static func node(_ store: any MessageStore) -> (Dispatcher, AlertMonitor) {
        var configuration = RelayConfiguration()
        configuration.bots = [.init(name: "default", token: "1:x")]
        configuration.alerts.webhookURL = "http://127.0.0.1:9/alerts"
        let dispatcher = Dispatcher(
            configuration: configuration, store: store, client: BotAPIClient(httpClient: .shared), logger: Logger(label: "test"))
        return (dispatcher, AlertMonitor(configuration: configuration, store: store, dispatcher: dispatcher, logger: Logger(label: "test")))
    }
}
