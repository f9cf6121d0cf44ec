import FakeTelegram
import Foundation
import Testing

/// The outbound promise at scale and through crashes: every accepted message delivered, in order per
/// lane, at Telegram's limits, whatever happens to the relay process.
@Suite(.serialized)
struct DeliveryTests {
    /// Lane `index`: private chats first, then groups (negative ids).
    static func chat(_ index: Int, lanes: Int, groups: Int) -> Int64 {
        index < lanes - groups ? Int64(10_000 + index) : Int64(-20_000 - index)
    }

    @Test func twoThousandMessagesOverTwoHundredLanesAtTelegramsLimits() async throws {
        let bed = try await TestBed(limits: .telegram)
        defer { Task { try await bed.shutdown() } }
        let lanes = 200, perLane = 10, groups = 20
        var batch: [[String: Any]] = []
        for seq in 0..<perLane {
            for lane in 0..<lanes {
                batch.append(["chat_id": Self.chat(lane, lanes: lanes, groups: groups), "text": "L\(lane)-\(seq)"])
            }
        }
        for start in stride(from: 0, to: batch.count, by: 1000) {
            let response = try await bed.post("/messages/batch", ["messages": Array(batch[start..<start + 1000])])
            #expect(response.status == 202)
        }
        let total = lanes * perLane
        // 2,000 messages at ~29/s take ~70 s; groups at 1/s take 10 s each.
        let done = try await eventually(timeout: .seconds(150), every: .milliseconds(500)) {
            bed.telegram.stats().messagesDelivered >= total
        }
        #expect(done, "delivered \(bed.telegram.stats().messagesDelivered) of \(total)")
        for lane in 0..<lanes {
            let texts = bed.deliveredTexts(chat: String(Self.chat(lane, lanes: lanes, groups: groups)))
            #expect(texts == (0..<perLane).map { "L\(lane)-\($0)" }, "lane \(lane) exactly once, in order")
        }
        let stats = bed.telegram.stats()
        #expect(stats.limitViolations == 0)
        #expect(stats.tooManyRequestsTotal == 0, "no 429 was injected, so none may happen")
        #expect(stats.duplicatePayloads == 0)
        let status = try await bed.http.json(.GET, bed.api + "/status")["bots"] as? [[String: Any]]
        #expect(status?.first?["delivered"] as? Int == total)
        #expect(status?.first?["queue_depth"] as? Int == 0)
    }

    @Test func killNineThreeTimesWhileSendingLosesNothing() async throws {
        let bed = try await TestBed(limits: .telegram)
        defer { Task { try await bed.shutdown() } }
        let lanes = 60
        let accepted = AcceptedLog()
        // A client keeps submitting while the relay is killed under it; only answered accepts are promises.
        let sender = Task {
            for seq in 0..<12 {
                for lane in 0..<lanes {
                    let text = "K\(lane)-\(seq)"
                    while !Task.isCancelled {
                        // The key makes the retry of an accept whose answer was lost to the kill safe.
                        if let response = try? await bed.http.json(
                            .POST, bed.api + "/messages", body: ["chat_id": 30_000 + lane, "text": text],
                            headers: ["Idempotency-Key": text], timeout: .seconds(2))
                        {
                            if [200, 202].contains(response.status), let id = response["id"] as? Int {
                                await accepted.add(id: id, lane: lane, text: text)
                                break
                            }
                        }
                        // The relay is down (killed): retry the same message, as a client would.
                        try? await Task.sleep(for: .milliseconds(50))
                    }
                }
            }
        }
        for _ in 0..<3 {
            try await Task.sleep(for: .seconds(3))
            bed.relay.kill9()
            try await Task.sleep(for: .milliseconds(300))
            try await bed.relay.start(http: bed.http)
        }
        _ = await sender.value
        let ids = await accepted.ids
        #expect(ids.count == lanes * 12)
        let final = try await bed.waitFinal(ids, timeout: .seconds(120))
        #expect(final.count == ids.count)
        #expect(final.values.allSatisfy { $0["status"] as? String == "delivered" })

        let ambiguousTexts = Set(await accepted.entries.filter { final[$0.id]?["ambiguous"] as? Bool == true }.map(\.text))
        var duplicates = 0
        for lane in 0..<lanes {
            let recorded = bed.telegram.messages(bot: TestBed.botID, chat: String(30_000 + lane))
            let texts = recorded.compactMap { $0.params["text"]?.stringValue }
            var seen: [String] = []
            for text in texts where !seen.contains(text) { seen.append(text) }
            #expect(seen == (0..<12).map { "K\(lane)-\($0)" }, "lane \(lane): every message, first deliveries in order")
            for (text, count) in Dictionary(texts.map { ($0, 1) }, uniquingKeysWith: +) where count > 1 {
                duplicates += count - 1
                #expect(ambiguousTexts.contains(text), "\(text) was delivered twice without being flagged ambiguous")
            }
        }
        #expect(bed.telegram.stats().limitViolations == 0)
        print("kill -9 ×3: \(ids.count) accepted, all delivered, \(duplicates) duplicate(s), all flagged ambiguous")
    }

    @Test func gracefulShutdownLetsInFlightSendsFinish() async throws {
        let bed = try await TestBed(limits: .off)
        defer { Task { try await bed.shutdown() } }
        var slow = FakeFault(kind: .latency)
        slow.latencyMs = 800
        try bed.telegram.addFault(slow)
        var ids: [Int] = []
        for chat in 0..<20 { ids.append(try await bed.send(chat: 40_000 + chat, text: "graceful \(chat)")) }
        #expect(try await eventually(timeout: .seconds(5)) {
            bed.telegram.stats().totalRequests >= 10
        })
        #expect(bed.relay.terminate() == 0, "SIGTERM exits cleanly")
        #expect(bed.relay.logText.contains("in-flight sends finished"))
        bed.telegram.clearFaults()
        try await bed.relay.start(http: bed.http)
        let final = try await bed.waitFinal(ids)
        #expect(final.values.allSatisfy { $0["status"] as? String == "delivered" })
        #expect(final.values.allSatisfy { $0["ambiguous"] as? Bool == false }, "nothing was interrupted mid-send")
        for chat in 0..<20 { #expect(bed.deliveredTexts(chat: String(40_000 + chat)) == ["graceful \(chat)"]) }
    }

    /// Telegram answered, but the store refuses to record it (another process holds the database's write
    /// lock past the busy timeout): the relay keeps the answer and records it once the store takes it,
    /// without sending again and without the lane moving on meanwhile.
    @Test func answerThatCannotBeRecordedIsRecordedLaterNotSentAgain() async throws {
        let bed = try await TestBed(limits: .off)
        defer { Task { try await bed.shutdown() } }
        var slow = FakeFault(kind: .latency)
        slow.latencyMs = 1500
        slow.method = "sendMessage"
        try bed.telegram.addFault(slow)
        let first = try await bed.send(chat: 61_000, text: "first")
        let second = try await bed.send(chat: 61_000, text: "second")
        _ = try await eventually(timeout: .seconds(10), every: .milliseconds(20)) {
            try await bed.message(first)["status"] as? String == "sending"
        }
        // Holds the write lock for 12 s, beyond the store's 5 s busy timeout twice (the lease keeper's renewal
        // may wait out the first), while the answer is on its way. The bot's lease lapses meanwhile: the send
        // already out is still recorded, and the second message waits for the lease to come back.
        let locker = Process()
        locker.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        locker.arguments = [
            "python3", "-c",
            "import sqlite3, sys, time; c = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=10); "
                + "c.execute('BEGIN EXCLUSIVE'); time.sleep(12); c.execute('COMMIT')",
            bed.relay.databasePath,
        ]
        try locker.run()
        let final = try await bed.waitFinal([first, second], timeout: .seconds(40))
        locker.waitUntilExit()
        #expect(locker.terminationStatus == 0, "the lock holder ran")
        #expect(final[first]?["status"] as? String == "delivered")
        #expect(final[first]?["ambiguous"] as? Bool == false, "the answer was kept, not guessed")
        #expect(final[second]?["status"] as? String == "delivered")
        #expect(bed.deliveredTexts(chat: "61000") == ["first", "second"], "each once, in order")
        #expect(bed.telegram.stats().duplicatePayloads == 0)
        #expect(bed.relay.logText.contains("attempt recorded after store errors"))
        #expect(try await bed.ledger(messageID: first).count == 1)
    }

    @Test func fullStoreAnswers503AndLosesNothingAlreadyAccepted() async throws {
        let bed = try await TestBed(limits: .off, config: ["options": ["database_max_bytes": 400_000]])
        defer { Task { try await bed.shutdown() } }
        try bed.telegram.addFault(FakeFault(kind: .outage))
        var accepted: [Int] = []
        var refusal: JSONResponse?
        for index in 0..<20_000 {
            let response = try await bed.post("/messages", ["chat_id": 50_000 + index % 50, "text": "fill \(index) " + String(repeating: "x", count: 200)])
            if response.status == 202, let id = response["id"] as? Int {
                accepted.append(id)
            } else {
                refusal = response
                break
            }
        }
        let full = try #require(refusal, "the store never filled up")
        #expect(full.status == 503)
        #expect(full.error["code"] as? String == "store_unavailable")
        #expect(full.headers["retry-after"] != nil)
        #expect(try await bed.http.json(.GET, bed.relay.baseURL + "/readyz").status == 503, "a full store is not ready")
        #expect(try await bed.http.json(.GET, bed.relay.baseURL + "/healthz").status == 200, "but the process is up")

        // Room again (the operator freed disk): everything accepted before is delivered.
        bed.relay.kill9()
        bed.telegram.clearFaults()
        let roomy = try RelayProcess(directory: bed.directory, telegramAPI: bed.telegram.baseURL, token: TestBed.token, environment: ["TGRELAY_RATE_LIMITS": "off"])
        try await roomy.start(http: bed.http)
        defer { roomy.kill9() }
        #expect(try await bed.http.json(.GET, roomy.baseURL + "/readyz").status == 200, "room again: ready")
        let done = try await eventually(timeout: .seconds(60), every: .milliseconds(300)) {
            bed.telegram.stats().messagesDelivered >= accepted.count
        }
        #expect(done)
        #expect(bed.telegram.stats().messagesDelivered == accepted.count, "each accepted message exactly once")
    }
}

/// The messages a client saw accepted (202), for checking after the crashes.
actor AcceptedLog {
    struct Entry { var id: Int; var lane: Int; var text: String }
    private(set) var entries: [Entry] = []
    var ids: [Int] { entries.map(\.id) }
    func add(id: Int, lane: Int, text: String) { entries.append(Entry(id: id, lane: lane, text: text)) }
}
