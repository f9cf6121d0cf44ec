import FakeTelegram
import Foundation
import Testing

/// Every row of DESIGN.md's classification, end to end: the real relay process against the simulator,
/// asserted on the message's status, its ledger rows and the dead-letter reason.
@Suite(.serialized)
struct ClassificationTests {
    /// Fast retries and pauses so each row takes seconds, not minutes.
    nonisolated(unsafe) static let fastConfig: [String: Any] = [
        "options": ["max_attempts": 3, "unauthorized_pause_seconds": 1, "request_timeout_seconds": 1]
    ]

    func fault(_ kind: FakeFault.Kind, chat: String? = nil, count: Int? = nil, _ configure: (inout FakeFault) -> Void = { _ in }) -> FakeFault {
        var fault = FakeFault(kind: kind)
        fault.chat = chat
        fault.count = count
        configure(&fault)
        return fault
    }

    @Test func rateLimitedWaitsExactlyRetryAfterWithoutCountingAnAttempt() async throws {
        let bed = try await TestBed(config: Self.fastConfig)
        defer { Task { try await bed.shutdown() } }
        try bed.telegram.addFault(fault(.tooManyRequests, chat: "501", count: 1) { $0.retryAfter = 2 })
        let id = try await bed.send(chat: 501, text: "after 429")
        let message = try #require(try await bed.waitFinal([id])[id])
        #expect(message["status"] as? String == "delivered")
        #expect(message["attempts"] as? Int == 1)
        let rows = try await bed.ledger(messageID: id)
        #expect(rows.map { $0["outcome"] as? String } == ["rate_limited", "delivered"])
        #expect(rows.first?["retry_after"] as? Int == 2)
        #expect(rows.first?["http_status"] as? Int == 429)
        let first = try #require(rows.first?["at"] as? String).iso8601Date
        let second = try #require(rows.last?["at"] as? String).iso8601Date
        #expect(second.timeIntervalSince(first) >= 1.95)
        #expect(bed.telegram.stats().limitViolations == 0)
    }

    @Test func migratedGroupIsRetargetedAndSentAgainAtOnce() async throws {
        let bed = try await TestBed(config: Self.fastConfig)
        defer { Task { try await bed.shutdown() } }
        try bed.telegram.addFault(fault(.migrated, chat: "-502", count: 1) { $0.migrateToChatID = -100_502 })
        let id = try await bed.send(chat: -502, text: "to the supergroup")
        let message = try #require(try await bed.waitFinal([id])[id])
        #expect(message["status"] as? String == "delivered")
        #expect(message["chat_id"] as? String == "-100502")
        #expect(message["attempts"] as? Int == 1)
        #expect(bed.deliveredTexts(chat: "-100502") == ["to the supergroup"])
        #expect(try await bed.ledger(messageID: id).map { $0["outcome"] as? String } == ["migrated", "delivered"])
    }

    @Test func blockedChatFailsAndLaterMessagesFailFastUntilReactivated() async throws {
        let bed = try await TestBed(config: Self.fastConfig)
        defer { Task { try await bed.shutdown() } }
        let block = try bed.telegram.addFault(fault(.blocked, chat: "503"))
        let first = try await bed.send(chat: 503, text: "one")
        let failed = try #require(try await bed.waitFinal([first])[first])
        #expect(failed["status"] as? String == "failed")
        #expect(failed["last_error"] as? String == "Forbidden: bot was blocked by the user")
        let letters = try await bed.http.json(.GET, bed.api + "/dead-letters?chat_id=503")["dead_letters"] as? [[String: Any]]
        #expect(letters?.map { $0["id"] as? Int } == [first])

        let requestsBefore = bed.telegram.stats().requestsByMethod["sendMessage"] ?? 0
        let second = try await bed.send(chat: 503, text: "two")
        let fast = try #require(try await bed.waitFinal([second])[second])
        #expect(fast["status"] as? String == "failed")
        #expect(fast["last_error"] as? String == "Forbidden: bot was blocked by the user")
        #expect(try await bed.ledger(messageID: second).isEmpty, "failing fast asks Telegram nothing")
        #expect((bed.telegram.stats().requestsByMethod["sendMessage"] ?? 0) == requestsBefore)
        let inactive = try await bed.http.json(.GET, bed.api + "/chats/inactive")["inactive_chats"] as? [[String: Any]]
        #expect(inactive?.first?["chat_id"] as? String == "503")

        bed.telegram.removeFault(id: block)
        #expect(try await bed.post("/chats/default/503/reactivate", [:]).status == 200)
        let third = try await bed.send(chat: 503, text: "three")
        #expect(try await bed.waitFinal([third])[third]?["status"] as? String == "delivered")
        let replay = try await bed.post("/dead-letters/\(first)/replay", [:])
        #expect(replay.status == 200)
        #expect(try await bed.waitFinal([first])[first]?["status"] as? String == "delivered")
        #expect(bed.deliveredTexts(chat: "503") == ["three", "one"])
    }

    @Test func revokedTokenPausesTheBotAndMessagesKeepWaiting() async throws {
        let bed = try await TestBed(config: Self.fastConfig)
        defer { Task { try await bed.shutdown() } }
        let revoked = try bed.telegram.addFault(fault(.revokedToken))
        let id = try await bed.send(chat: 504, text: "patience")
        #expect(try await eventually(timeout: .seconds(10)) {
            try await bed.ledger(messageID: id).contains { $0["outcome"] as? String == "unauthorized" }
        })
        try await Task.sleep(for: .seconds(2))
        let waiting = try await bed.message(id)
        // Kept, not failed: waiting out the pause, or caught in the middle of the next try (`sending`).
        #expect(["waiting", "sending"].contains(waiting["status"] as? String ?? ""), "\(waiting)")
        #expect(waiting["attempts"] as? Int == 0, "a refused token consumes no attempt")
        let status = try await bed.http.json(.GET, bed.api + "/status")["bots"] as? [[String: Any]]
        #expect(status?.first?["token_refused"] as? String == "Unauthorized")
        bed.telegram.removeFault(id: revoked)
        #expect(try await bed.waitFinal([id])[id]?["status"] as? String == "delivered")
    }

    @Test func otherClientErrorsBecomeDeadLettersWithTelegramsDescription() async throws {
        let bed = try await TestBed(config: Self.fastConfig)
        defer { Task { try await bed.shutdown() } }
        let id = try await bed.send(chat: 505, text: "<b>unclosed", extra: ["parse_mode": "HTML"])
        let message = try #require(try await bed.waitFinal([id])[id])
        #expect(message["status"] as? String == "failed")
        let reason = try #require(message["last_error"] as? String)
        #expect(reason.hasPrefix("Bad Request: can't parse entities"))
        let rows = try await bed.ledger(messageID: id)
        #expect(rows.count == 1)
        #expect(rows.first?["error_code"] as? Int == 400)
        #expect(rows.first?["description"] as? String == reason)

        try bed.telegram.addFault(fault(.chatNotFound, chat: "506"))
        let unknown = try await bed.send(chat: 506, text: "nobody")
        #expect(try await bed.waitFinal([unknown])[unknown]?["last_error"] as? String == "Bad Request: chat not found")
    }

    @Test func transientErrorsBackOffAndSucceed() async throws {
        let bed = try await TestBed(config: Self.fastConfig)
        defer { Task { try await bed.shutdown() } }
        try bed.telegram.addFault(fault(.internalError, chat: "507", count: 2))
        let id = try await bed.send(chat: 507, text: "third time lucky")
        let message = try #require(try await bed.waitFinal([id], timeout: .seconds(30))[id])
        #expect(message["status"] as? String == "delivered")
        #expect(message["attempts"] as? Int == 3)
        let rows = try await bed.ledger(messageID: id)
        #expect(rows.map { $0["outcome"] as? String } == ["transient", "transient", "delivered"])
        #expect(rows.first?["description"] as? String == "Internal Server Error: restart")
        let times = try rows.map { try #require($0["at"] as? String).iso8601Date }
        // Backoff 1 s then 2 s, each ±20 %.
        #expect(times[1].timeIntervalSince(times[0]) >= 0.8)
        #expect(times[2].timeIntervalSince(times[1]) >= 1.6)
    }

    @Test func transientErrorsExhaustTheAttemptsIntoADeadLetter() async throws {
        let bed = try await TestBed(config: Self.fastConfig)
        defer { Task { try await bed.shutdown() } }
        try bed.telegram.addFault(fault(.random5xx, chat: "508") { $0.statuses = [503] })
        let id = try await bed.send(chat: 508, text: "never")
        let message = try #require(try await bed.waitFinal([id], timeout: .seconds(30))[id])
        #expect(message["status"] as? String == "failed")
        #expect(message["attempts"] as? Int == 3)
        #expect((message["last_error"] as? String)?.hasPrefix("attempts exhausted") == true)
        #expect(try await bed.ledger(messageID: id).count == 3)
    }

    @Test func lostAnswerIsRetriedAndFlaggedAmbiguous() async throws {
        let bed = try await TestBed(config: Self.fastConfig)
        defer { Task { try await bed.shutdown() } }
        try bed.telegram.addFault(fault(.lostAnswer, chat: "509", count: 1))
        let id = try await bed.send(chat: 509, text: "maybe twice")
        let message = try #require(try await bed.waitFinal([id], timeout: .seconds(30))[id])
        #expect(message["status"] as? String == "delivered")
        #expect(message["ambiguous"] as? Bool == true)
        let recorded = bed.telegram.messages(bot: TestBed.botID, chat: "509")
        #expect(recorded.map(\.lostAnswer) == [true, false], "at-least-once: the lost answer's message and the retry")
        let rows = try await bed.ledger(messageID: id)
        #expect(rows.first?["outcome"] as? String == "ambiguous")
        #expect(rows.first?["ambiguous"] as? Bool == true)
    }

    @Test func atMostOnceDeadLettersAnAmbiguousAttemptAsOutcomeUnknown() async throws {
        let bed = try await TestBed(config: Self.fastConfig)
        defer { Task { try await bed.shutdown() } }
        try bed.telegram.addFault(fault(.lostAnswer, chat: "510", count: 1))
        let id = try await bed.send(chat: 510, text: "once at most", extra: ["at_most_once": true])
        let message = try #require(try await bed.waitFinal([id], timeout: .seconds(30))[id])
        #expect(message["status"] as? String == "failed")
        #expect(message["last_error"] as? String == "outcome_unknown")
        #expect(bed.telegram.messages(bot: TestBed.botID, chat: "510").count == 1)
    }

    @Test func hungRequestIsCutByTheTimeoutAndTreatedAsAmbiguous() async throws {
        let bed = try await TestBed(config: Self.fastConfig)
        defer { Task { try await bed.shutdown() } }
        try bed.telegram.addFault(fault(.hang, chat: "511", count: 1))
        let id = try await bed.send(chat: 511, text: "after the hang")
        let message = try #require(try await bed.waitFinal([id], timeout: .seconds(30))[id])
        #expect(message["status"] as? String == "delivered")
        #expect(message["ambiguous"] as? Bool == true)
        #expect(try await bed.ledger(messageID: id).first?["outcome"] as? String == "ambiguous")
    }

    @Test func deadlineExpiresAMessageDuringAnOutageInsteadOfSendingItLate() async throws {
        let bed = try await TestBed(config: Self.fastConfig)
        defer { Task { try await bed.shutdown() } }
        try bed.telegram.addFault(fault(.outage) { $0.duration = 6 })
        let id = try await bed.send(chat: 512, text: "OTP 123456", extra: ["ttl_seconds": 2])
        let message = try #require(try await bed.waitFinal([id], timeout: .seconds(30))[id])
        #expect(message["status"] as? String == "expired")
        #expect(message["last_error"] as? String != nil)
        try await Task.sleep(for: .seconds(5))
        #expect(bed.deliveredTexts(chat: "512").isEmpty, "never sent late")
    }

    @Test func outageHoldsMessagesWithoutBurningAttemptsAndDrainsAfter() async throws {
        let bed = try await TestBed(config: Self.fastConfig)
        defer { Task { try await bed.shutdown() } }
        try bed.telegram.addFault(fault(.outage) { $0.duration = 8 })
        var ids: [Int] = []
        for chat in 600..<620 { ids.append(try await bed.send(chat: chat, text: "held \(chat)")) }
        let final = try await bed.waitFinal(ids, timeout: .seconds(60))
        #expect(final.values.allSatisfy { $0["status"] as? String == "delivered" }, "max_attempts is 3, the outage lasts 8 s")
        for chat in 600..<620 { #expect(bed.deliveredTexts(chat: String(chat)) == ["held \(chat)"]) }
    }
}

extension String {
    var iso8601Date: Date {
        get throws {
            let formatter = ISO8601DateFormatter()
            formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            return try #require(formatter.date(from: self))
        }
    }
}
