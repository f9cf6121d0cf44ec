import AsyncHTTPClient
import Foundation
import Testing

@testable import FakeTelegram

/// Every fault kind, injected through the Swift API, the control API or a scenario.
@Suite struct FaultTests {
    @Test func outageAnswersHTML502ThenRecovers() async throws {
        try await Harness.run { h throws in
            try h.fake.addFault(FakeFault(json: ["kind": "outage", "duration": 60]))
            let reply = try await h.call("getMe")
            #expect(reply.status == 502)
            #expect(reply.contentType == "text/html")
            #expect(reply.body.contains("<html>") && reply.body.contains("502 Bad Gateway"))
            #expect(reply.json == nil)
            h.fake.advanceClock(by: .seconds(61))
            #expect(try await h.call("getMe").ok)
            #expect(h.fake.stats().faultsInjected["outage"] == 1)
        }
    }

    @Test func internalErrorRestart() async throws {
        try await Harness.run { h throws in
            try h.fake.addFault(FakeFault(json: ["kind": "internal_error", "count": 1]))
            let reply = try await h.call("sendMessage", ["chat_id": 42, "text": "x"])
            #expect(reply.status == 500)
            #expect(reply.body == #"{"description":"Internal Server Error: restart","error_code":500,"ok":false}"#)
            #expect(try await h.call("sendMessage", ["chat_id": 42, "text": "x"]).ok)
            #expect(h.fake.messages().count == 1)
        }
    }

    @Test func random5xxUsesTheGivenStatuses() async throws {
        try await Harness.run { h throws in
            try h.fake.addFault(FakeFault(json: ["kind": "random_5xx", "rate": 1, "statuses": [503, 504], "count": 6]))
            var statuses: Set<Int> = []
            for _ in 0..<6 { statuses.insert(try await h.call("getMe").status) }
            #expect(statuses.isSubset(of: [503, 504]) && !statuses.isEmpty)
            #expect(try await h.call("getMe").status == 200)
        }
    }

    @Test func latencyDelaysAnswers() async throws {
        try await Harness.run { h throws in
            try h.fake.addFault(FakeFault(json: ["kind": "latency", "latency_ms": 300, "jitter_ms": 50, "method": "getMe"]))
            let start = ContinuousClock.now
            #expect(try await h.call("getMe").ok)
            #expect(ContinuousClock.now - start >= .milliseconds(250))
            let fast = ContinuousClock.now
            #expect(try await h.call("sendChatAction", ["chat_id": 1, "action": "typing"]).ok)
            #expect(ContinuousClock.now - fast < .milliseconds(250))
        }
    }

    @Test func refusedConnectionsReopenOnTheSamePort() async throws {
        try await Harness.run { h throws in
            let port = h.fake.port
            #expect(try await h.call("getMe").ok)
            try h.fake.addFault(FakeFault(json: ["kind": "refuse_connections", "duration": 3]))
            try await eventually("listener closed") { h.fake.stats().faultsInjected["refuse_connections"] == 1 }
            await #expect(throws: (any Error).self) { _ = try await h.call("getMe", timeout: .seconds(2)) }
            try await eventually(timeout: .seconds(10), "listener re-opened") {
                (try? await h.call("getMe", timeout: .seconds(1)))?.ok == true
            }
            #expect(h.fake.port == port)
            #expect(h.fake.stats().faultsInjected["refuse_connections"] == 1)
        }
    }

    @Test func hangUntilTheClientGivesUp() async throws {
        try await Harness.run { h throws in
            let id = try h.fake.addFault(FakeFault(json: ["kind": "hang", "duration": 30, "method": "sendMessage"]))
            let start = ContinuousClock.now
            await #expect(throws: HTTPClientError.self) {
                _ = try await h.call("sendMessage", ["chat_id": 42, "text": "x"], timeout: .milliseconds(400))
            }
            #expect(ContinuousClock.now - start >= .milliseconds(350))
            #expect(h.fake.messages().isEmpty)
            #expect(try await h.call("getMe").ok, "other methods are not affected")
            h.fake.removeFault(id: id)
            #expect(try await h.call("sendMessage", ["chat_id": 42, "text": "x"]).ok)
        }
    }

    @Test func lostAnswerIsDeliveredButUnanswered() async throws {
        try await Harness.run { h throws in
            try h.fake.addFault(FakeFault(json: ["kind": "lost_answer", "count": 1, "method": "sendMessage"]))
            await #expect(throws: (any Error).self) { _ = try await h.call("sendMessage", ["chat_id": 42, "text": "maybe"]) }
            let retry = try await h.call("sendMessage", ["chat_id": 42, "text": "maybe"])
            #expect(retry.result?["message_id"] == 2)
            let recorded = h.fake.messages(chat: "42")
            #expect(recorded.map(\.lostAnswer) == [true, false])
            #expect(recorded.map(\.duplicate) == [false, true])
            let stats = h.fake.stats()
            #expect(stats.lostAnswers == 1)
            #expect(stats.duplicatePayloads == 1)
            #expect(stats.duplicatesByChat == ["123/42": 1])
        }
    }

    @Test(arguments: [
        ("blocked", FakeJSON.int(42), "Forbidden: bot was blocked by the user"),
        ("deactivated", .int(42), "Forbidden: user is deactivated"),
        ("cant_initiate", .int(42), "Forbidden: bot can't initiate conversation with a user"),
        ("kicked", .int(-4711), "Forbidden: bot was kicked from the group chat"),
        ("kicked", .int(-1_001_234_567_890), "Forbidden: bot was kicked from the supergroup chat"),
    ])
    func forbiddenChats(kind: String, chat: FakeJSON, description: String) async throws {
        try await Harness.run { h throws in
            try h.fake.addFault(FakeFault(json: ["kind": .string(kind), "chat": chat]))
            let reply = try await h.call("sendMessage", ["chat_id": chat, "text": "x"])
            #expect(reply.status == 403)
            #expect(reply.description == description)
            #expect(try await h.call("sendChatAction", ["chat_id": chat, "action": "typing"]).status == 403)
            #expect(try await h.call("sendMessage", ["chat_id": 7, "text": "x"]).ok, "other chats work")
        }
    }

    @Test func revokedToken() async throws {
        try await Harness.run { h throws in
            try h.fake.addFault(FakeFault(json: ["kind": "revoked_token", "bot": 123]))
            let reply = try await h.call("getMe")
            #expect(reply.status == 401)
            #expect(reply.body == #"{"description":"Unauthorized","error_code":401,"ok":false}"#)
            #expect(try await h.call("getMe", token: "456:other").ok)
        }
    }

    @Test func migratedGroup() async throws {
        try await Harness.run { h throws in
            try h.fake.addFault(FakeFault(json: ["kind": "migrated", "chat": "-4711", "migrate_to_chat_id": -1_000_000_004_711]))
            let reply = try await h.call("sendMessage", ["chat_id": -4711, "text": "x"])
            #expect(reply.status == 400)
            #expect(
                reply.body
                    == #"{"description":"Bad Request: group chat was upgraded to a supergroup chat","error_code":400,"ok":false,"parameters":{"migrate_to_chat_id":-1000000004711}}"#
            )
            let moved = try await h.call("sendMessage", ["chat_id": -1_000_000_004_711, "text": "x"])
            #expect(moved.result?["chat"]?["type"] == "supergroup")
        }
    }

    @Test func injected429IsNotALimitViolation() async throws {
        try await Harness.run { h throws in
            try h.fake.addFault(FakeFault(json: ["kind": "too_many_requests", "retry_after": 7, "count": 1]))
            let reply = try await h.call("sendMessage", ["chat_id": 42, "text": "x"])
            #expect(reply.status == 429)
            #expect(reply.retryAfter == 7)
            #expect(reply.description == "Too Many Requests: retry after 7")
            let stats = h.fake.stats()
            #expect(stats.injectedTooManyRequests == 1)
            #expect(stats.limitViolations == 0)
            #expect(stats.tooManyRequestsTotal == 1)
        }
    }

    @Test func chatNotFoundFault() async throws {
        try await Harness.run { h throws in
            try h.fake.addFault(FakeFault(json: ["kind": "chat_not_found", "chat": "@gone"]))
            #expect(try await h.call("sendMessage", ["chat_id": "@Gone", "text": "x"]).description == "Bad Request: chat not found")
        }
    }

    @Test func scenarioWindowsCountFromStart() async throws {
        let json = try FakeJSON.parse(
            #"{"faults":[{"kind":"outage","start":3600,"duration":60},{"kind":"blocked","chat":"42"}],"limits":"off","unknown_chats":[-5]}"#)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("scenario-\(UUID().uuidString).json").path
        try json.serialized.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let scenario = try FakeScenario.load(path: path)
        #expect(scenario.faults.count == 2)
        #expect(scenario.limits == .off)
        try await Harness.run({ $0.scenario = scenario }) { h throws in
            #expect(try await h.call("getMe").ok)
            #expect(try await h.call("sendMessage", ["chat_id": 42, "text": "x"]).status == 403)
            #expect(try await h.call("sendMessage", ["chat_id": -5, "text": "x"]).description == "Bad Request: chat not found")
            h.fake.advanceClock(by: .seconds(3601))
            #expect(try await h.call("getMe").status == 502)
            h.fake.advanceClock(by: .seconds(60))
            #expect(try await h.call("getMe").ok)
        }
    }

    @Test func badScenarioIsRejected() {
        #expect(throws: FakeConfigError.self) { try FakeScenario(json: ["faults": [["kind": "meteor"]]]) }
        #expect(throws: FakeConfigError.self) { try FakeScenario(json: ["faults": [["kind": "refuse_connections"]]]) }
        #expect(throws: FakeConfigError.self) { try FakeScenario(json: ["faults": [["kind": "lost_answer", "rate": 2]]]) }
    }

    @Test func controlAPIManagesFaults() async throws {
        try await Harness.run { h throws in
            let added = try await h.control(.POST, "faults", ["faults": [["kind": "outage"], ["kind": "blocked", "chat": 42]]])
            #expect(added.status == 200)
            #expect(added.json?["ids"] == [1, 2])
            #expect(try await h.call("getMe").status == 502)
            let listed = try await h.control(.GET, "faults")
            #expect(listed.json?["faults"]?.arrayValue?.count == 2)
            #expect(try await h.control(.DELETE, "faults/1").status == 200)
            #expect(try await h.call("getMe").ok)
            #expect(try await h.control(.DELETE, "faults").status == 200)
            #expect(try await h.call("sendMessage", ["chat_id": 42, "text": "x"]).ok)
            let bad = try await h.control(.POST, "faults", ["kind": "nope"])
            #expect(bad.status == 400)
        }
    }
}
