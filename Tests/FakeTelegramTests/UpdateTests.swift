import Foundation
import Testing

@testable import FakeTelegram

/// getUpdates semantics: offsets, limits, long polling, conflicts, allowed_updates, retention.
@Suite struct UpdateTests {
    func ids(_ reply: Reply) -> [Int64] {
        reply.result?.arrayValue?.compactMap { $0["update_id"]?.intValue } ?? []
    }

    @Test func injectConfirmAndNegativeOffset() async throws {
        try await Harness.run { h throws in
            let injected = try await h.control(
                .POST, "updates",
                ["bot": 123, "updates": [["message": ["text": "a"]], ["message": ["text": "b"]], ["message": ["text": "c"]]]])
            #expect(injected.status == 200)
            let assigned = injected.json?["update_ids"]?.arrayValue?.compactMap(\.intValue) ?? []
            #expect(assigned.count == 3)
            #expect(assigned == [assigned[0], assigned[0] + 1, assigned[0] + 2], "ids increase by one")

            let all = try await h.call("getUpdates")
            #expect(ids(all) == assigned)
            #expect(ids(try await h.call("getUpdates")) == assigned, "nothing confirmed without offset")
            #expect(ids(try await h.call("getUpdates", ["limit": 2])) == Array(assigned.prefix(2)))
            #expect(ids(try await h.call("getUpdates", ["offset": .int(assigned[1])])) == Array(assigned.suffix(2)))
            #expect(ids(try await h.call("getUpdates")) == Array(assigned.suffix(2)), "offset confirmed the first")
            #expect(ids(try await h.call("getUpdates", ["offset": -1])) == [assigned[2]])
            #expect(ids(try await h.call("getUpdates")) == [assigned[2]], "negative offset forgot the rest")
            #expect(ids(try await h.call("getUpdates", ["offset": .int(assigned[2] + 1)])) == [])
            #expect(h.fake.pendingUpdates(bot: 123).isEmpty)
        }
    }

    @Test func longPollReturnsAsSoonAsAnUpdateArrives() async throws {
        try await Harness.run { h throws in
            let start = ContinuousClock.now
            async let poll = h.call("getUpdates", ["timeout": 10])
            try await Task.sleep(for: .milliseconds(300))
            try h.fake.injectMessage(bot: 123, chatID: 42, text: "/start")
            let reply = try await poll
            let elapsed = ContinuousClock.now - start
            #expect(reply.result?.arrayValue?.first?["message"]?["text"] == "/start")
            #expect(reply.result?.arrayValue?.first?["message"]?["chat"]?["id"] == 42)
            #expect(elapsed >= .milliseconds(250) && elapsed < .seconds(3))
        }
    }

    @Test func longPollTimesOutEmpty() async throws {
        try await Harness.run { h throws in
            let start = ContinuousClock.now
            let reply = try await h.call("getUpdates", ["timeout": 1])
            #expect(reply.result == [])
            #expect(ContinuousClock.now - start >= .milliseconds(900))
        }
    }

    @Test func secondPollerTerminatesTheFirst() async throws {
        try await Harness.run { h throws in
            async let first = h.call("getUpdates", ["timeout": 5])
            try await Task.sleep(for: .milliseconds(300))
            async let second = h.call("getUpdates", ["timeout": 1])
            let older = try await first
            #expect(older.status == 409)
            #expect(older.description == "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running")
            #expect(try await second.ok)
        }
    }

    @Test func getUpdatesConflictsWithWebhook() async throws {
        try await Harness.run { h throws in
            #expect(try await h.call("setWebhook", ["url": "https://example.org/hook"]).ok)
            let reply = try await h.call("getUpdates")
            #expect(reply.status == 409)
            #expect(
                reply.description
                    == "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first")
            let deleted = try await h.call("deleteWebhook")
            #expect(deleted.json?["description"] == "Webhook was deleted")
            #expect(try await h.call("getUpdates").ok)
        }
    }

    @Test func allowedUpdatesFilterNewUpdates() async throws {
        try await Harness.run { h throws in
            _ = try await h.form("getUpdates", [("allowed_updates", #"["callback_query"]"#)])
            #expect(try h.fake.injectUpdate(bot: 123, update: ["message": ["text": "ignored"]]) == nil)
            let id = try h.fake.injectUpdate(bot: 123, update: ["callback_query": ["id": "1", "data": "x"]])
            #expect(ids(try await h.call("getUpdates")) == [id!])
            // Default: everything except chat_member and reactions.
            _ = try await h.call("getUpdates", ["allowed_updates": [], "offset": .int(id! + 1)])
            #expect(try h.fake.injectUpdate(bot: 123, update: ["chat_member": [:]]) == nil)
            #expect(try h.fake.injectUpdate(bot: 123, update: ["message": ["text": "ok"]]) != nil)
        }
    }

    @Test func updatesExpireAfterRetention() async throws {
        try await Harness.run { h throws in
            try h.fake.injectMessage(bot: 123, chatID: 42, text: "old")
            h.fake.advanceClock(by: .seconds(23 * 3600))
            #expect(try await h.call("getUpdates").result?.arrayValue?.count == 1)
            h.fake.advanceClock(by: .seconds(2 * 3600))
            #expect(try await h.call("getUpdates").result == [])
        }
    }

    @Test func explicitUpdateIDsMustIncrease() async throws {
        try await Harness.run { h throws in
            #expect(try h.fake.injectUpdate(bot: 5, update: ["update_id": 10, "message": [:]]) == 10)
            #expect(try h.fake.injectUpdate(bot: 5, update: ["message": [:]]) == 11)
            #expect(throws: FakeConfigError.self) { try h.fake.injectUpdate(bot: 5, update: ["update_id": 3, "message": [:]]) }
        }
    }
}
