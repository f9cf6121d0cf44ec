import Foundation
import Testing

@testable import FakeTelegram

/// Recording, stats, reset and determinism.
@Suite struct RecordingTests {
    @Test func messagesEndpointListsDeliveriesInOrder() async throws {
        try await Harness.run({ $0.limits = .off }) { h throws in
            _ = try await h.form("sendMessage", [("chat_id", "42"), ("text", "a")])
            _ = try await h.call("sendMessage", ["chat_id": 43, "text": "b"])
            _ = try await h.call("sendMessage", ["chat_id": 42, "text": "c"], token: "456:x")
            _ = try await h.call("sendMessage", ["chat_id": 42, "text": ""])  // rejected, not recorded

            let all = try await h.control(.GET, "messages")
            #expect(all.json?["count"] == 3)
            let first = all.json?["messages"]?.arrayValue?.first
            #expect(first?["method"] == "sendMessage")
            #expect(first?["params"] == ["chat_id": "42", "text": "a"])
            #expect(first?["message_id"] == 1)
            #expect(first?["lost_answer"] == false)
            #expect(first?["received_at"]?.stringValue?.contains("T") == true)

            let filtered = try await h.control(.GET, "messages?bot=123&chat=42")
            #expect(filtered.json?["messages"]?.arrayValue?.map { $0["params"]?["text"] } == ["a"])
            #expect(h.fake.messages(bot: 456).map(\.params["text"]) == ["c"])
            #expect(h.fake.messages().map(\.sequence) == [1, 2, 3])
        }
    }

    @Test func statsCountEverything() async throws {
        try await Harness.run({ $0.limits = limits(privateChat: .init(count: 1, window: .seconds(5))) }) { h throws in
            _ = try await h.call("getMe")
            _ = try await h.call("sendMessage", ["chat_id": 42, "text": "same"])
            _ = try await h.call("sendMessage", ["chat_id": 42, "text": "same"])  // 429
            _ = try await h.call("nope")
            try h.fake.addFault(FakeFault(json: ["kind": "outage", "count": 1]))
            _ = try await h.call("getMe")
            let stats = try await h.control(.GET, "stats")
            let json = try #require(stats.json)
            #expect(json["total_requests"] == 5)
            #expect(json["requests_by_method"] == ["getMe": 2, "sendMessage": 2, "nope": 1])
            #expect(json["responses_by_status"] == ["200": 2, "429": 1, "404": 1, "502": 1])
            #expect(json["too_many_requests"] == ["total": 1, "limit": 1, "injected": 0])
            #expect(json["limit_violations"] == 1)
            #expect(json["faults_injected"] == ["outage": 1])
            #expect(json["messages_delivered"] == 1)
        }
    }

    @Test func duplicatesAreDetectedAcrossEncodings() async throws {
        try await Harness.run({ $0.limits = .off }) { h throws in
            _ = try await h.call("sendMessage", ["chat_id": 42, "text": "dup", "reply_markup": ["inline_keyboard": []]])
            _ = try await h.form("sendMessage", [("chat_id", "42"), ("text", "dup"), ("reply_markup", #"{ "inline_keyboard": [] }"#)])
            _ = try await h.call("sendMessage", ["chat_id": 43, "text": "dup", "reply_markup": ["inline_keyboard": []]])
            let stats = h.fake.stats()
            #expect(stats.duplicatePayloads == 1)
            #expect(stats.duplicatesByChat == ["123/42": 1])
        }
    }

    @Test func resetForgetsEverything() async throws {
        try await Harness.run { h throws in
            _ = try await h.call("sendMessage", ["chat_id": 42, "text": "x"])
            try h.fake.addFault(FakeFault(json: ["kind": "blocked", "chat": 43]))
            #expect(try await h.control(.POST, "reset").status == 200)
            #expect(h.fake.messages().isEmpty)
            #expect(h.fake.stats() == FakeStats())
            #expect(h.fake.faults().isEmpty)
            #expect(try await h.call("sendMessage", ["chat_id": 43, "text": "x"]).result?["message_id"] == 1)
        }
    }

    @Test func clockEndpoint() async throws {
        try await Harness.run { h throws in
            let before = try await h.control(.GET, "clock").json?["now"]?.doubleValue ?? 0
            let after = try await h.control(.POST, "clock", ["advance": 3600]).json?["now"]?.doubleValue ?? 0
            #expect(after - before >= 3600)
        }
    }

    /// Same seed, same requests → same faults; another seed differs.
    @Test func seededRunsAreDeterministic() async throws {
        func run(seed: UInt64) async throws -> [Int] {
            try await Harness.run({
                $0.seed = seed
                $0.limits = .off
            }) { h throws in
                try h.fake.addFault(FakeFault(json: ["kind": "random_5xx", "rate": 0.5]))
                try h.fake.addFault(FakeFault(json: ["kind": "lost_answer", "rate": 0.2]))
                var statuses: [Int] = []
                for i in 0..<40 {
                    let status = (try? await h.call("sendMessage", ["chat_id": 42, "text": .string("\(i)")]).status) ?? -1
                    statuses.append(status)
                }
                return statuses
            }
        }
        let a = try await run(seed: 7)
        let b = try await run(seed: 7)
        let c = try await run(seed: 8)
        #expect(a == b)
        #expect(a != c)
        #expect(Set(a).isSuperset(of: [200, -1]))
        #expect(a.contains { $0 >= 500 })
    }

    @Test func firstUpdateIDDependsOnlyOnSeedAndBot() async throws {
        func first(seed: UInt64) async throws -> Int64? {
            try await Harness.run({ $0.seed = seed }) { h throws in try h.fake.injectMessage(bot: 123, chatID: 1, text: "x") }
        }
        #expect(try await first(seed: 3) == first(seed: 3))
        #expect(try await first(seed: 3) != first(seed: 4))
    }
}
