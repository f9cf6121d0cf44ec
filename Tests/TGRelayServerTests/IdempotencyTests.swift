import FakeTelegram
import Foundation
import Testing

/// `Idempotency-Key` header and `idempotency_key` field: same key and payload → the existing message (200),
/// same key and another payload → 409, keys scoped per bot, and no race under concurrent retries.
@Suite(.serialized)
struct IdempotencyTests {
    static let secondToken = "654321:SECOND-token-SECRET"

    static var twoBots: [String: Any] {
        REST.config(["bots": ["second"], "bot": ["second": ["token": secondToken]]])
    }

    @Test func sameKeySamePayloadReturnsTheExistingMessage() async throws {
        let bed = try await TestBed.rest(config: Self.twoBots)
        defer { Task { try await bed.shutdown() } }
        let body: [String: Any] = ["chat_id": 901, "text": "pay 10 EUR"]
        let first = try await bed.post("/messages", body, headers: ["Idempotency-Key": "order-1"])
        #expect(first.status == 202)
        let id = try #require(first["id"] as? Int)
        #expect(try await bed.waitFinal([id], timeout: .seconds(10))[id]?["status"] as? String == "delivered")

        // The retry after delivery: the existing message with its current status, nothing new sent.
        let again = try await bed.post("/messages", body, headers: ["Idempotency-Key": "order-1"])
        #expect(again.status == 200)
        #expect(again["id"] as? Int == id)
        #expect(again["status"] as? String == "delivered")
        #expect(again["idempotency_key"] as? String == "order-1")
        #expect(again["message_id"] != nil, "the full message resource: \(again.body)")
        // The field works like the header, and both name the same key.
        let viaField = try await bed.post("/messages", body.merging(["idempotency_key": "order-1"]) { $1 })
        #expect(viaField.status == 200)
        #expect(viaField["id"] as? Int == id)
        // Key order and whitespace do not make a different payload.
        let reordered = try await bed.http.json(
            .POST, bed.api + "/messages", rawBody: #"{ "text" : "pay 10 EUR",  "chat_id":901 }"#, headers: ["Idempotency-Key": "order-1"])
        #expect(reordered.status == 200, "\(reordered.body)")

        let conflict = try await bed.post("/messages", ["chat_id": 901, "text": "pay 20 EUR"], headers: ["Idempotency-Key": "order-1"])
        #expect(conflict.status == 409)
        #expect(conflict.error["code"] as? String == "idempotency_conflict")
        #expect(conflict.error["field"] as? String == "idempotency_key")
        let otherChat = try await bed.post("/messages", ["chat_id": 902, "text": "pay 10 EUR"], headers: ["Idempotency-Key": "order-1"])
        #expect(otherChat.status == 409)

        // Scoped per bot: the second bot may use the same key for its own message.
        let second = try await bed.post("/messages", ["bot": "second", "params": ["chat_id": 901, "text": "pay 20 EUR"], "idempotency_key": "order-1"])
        #expect(second.status == 202, "\(second.body)")
        let secondID = try #require(second["id"] as? Int)
        #expect(secondID != id)
        let secondAgain = try await bed.post("/messages", ["bot": "second", "params": ["chat_id": 901, "text": "pay 20 EUR"], "idempotency_key": "order-1"])
        #expect(secondAgain.status == 200)
        #expect(secondAgain["id"] as? Int == secondID)
        #expect(try await bed.waitFinal([secondID], timeout: .seconds(10))[secondID]?["status"] as? String == "delivered")
        #expect(bed.telegram.messages(bot: 654_321, chat: "901").map { $0.params["text"]?.stringValue } == ["pay 20 EUR"])
        #expect(bed.deliveredTexts(chat: "901") == ["pay 10 EUR"], "the default bot sent its message once")
    }

    @Test func aRetryWhileQueuedSeesTheCurrentStatus() async throws {
        let bed = try await TestBed.rest()
        defer { Task { try await bed.shutdown() } }
        let outage = try bed.telegram.addFault(FakeFault(kind: .outage))
        let body: [String: Any] = ["chat_id": 903, "text": "held", "idempotency_key": "held-1"]
        let first = try await bed.post("/messages", body)
        let id = try #require(first["id"] as? Int)
        let retry = try await bed.post("/messages", body)
        #expect(retry.status == 200)
        #expect(retry["id"] as? Int == id)
        #expect(["queued", "sending", "waiting"].contains(retry["status"] as? String ?? ""), "\(retry.body)")
        bed.telegram.removeFault(id: outage)
        #expect(try await bed.waitFinal([id], timeout: .seconds(20))[id]?["status"] as? String == "delivered")
        #expect(bed.deliveredTexts(chat: "903") == ["held"])
    }

    @Test func aHundredConcurrentIdenticalRequestsStoreAndDeliverOneMessage() async throws {
        let bed = try await TestBed.rest()
        defer { Task { try await bed.shutdown() } }
        let body = #"{"chat_id": 904, "text": "exactly once"}"#
        let responses = try await withThrowingTaskGroup(of: JSONResponse.self) { group in
            for _ in 0..<100 {
                group.addTask {
                    try await bed.http.json(.POST, bed.api + "/messages", rawBody: body, headers: ["Idempotency-Key": "storm"])
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(responses.filter { $0.status == 202 }.count == 1, "\(responses.map(\.status))")
        #expect(responses.filter { $0.status == 200 }.count == 99)
        let ids = Set(responses.compactMap { $0["id"] as? Int })
        #expect(ids.count == 1)
        let id = try #require(ids.first)
        #expect(try await bed.waitFinal([id], timeout: .seconds(10))[id]?["status"] as? String == "delivered")
        // A moment for any stray second message to show up.
        try await Task.sleep(for: .milliseconds(500))
        #expect(bed.deliveredTexts(chat: "904") == ["exactly once"])
        #expect(try await bed.http.json(.GET, bed.api + "/messages/\(id + 1)").status == 404)
        #expect(try await bed.botStatus()?["delivered"] as? Int == 1)
    }

    @Test func batchesAndBroadcastsAreIdempotentItemByItem() async throws {
        let bed = try await TestBed.rest()
        defer { Task { try await bed.shutdown() } }
        let batch: [String: Any] = ["messages": [
            ["chat_id": 905, "text": "a", "idempotency_key": "b-1"],
            ["chat_id": 905, "text": "b", "idempotency_key": "b-2"],
            ["chat_id": 905, "text": "c"],
        ]]
        let first = try await bed.post("/messages/batch", batch)
        #expect(first.status == 202)
        let firstItems = try #require(first["messages"] as? [[String: Any]])
        let again = try await bed.post("/messages/batch", ["messages": [
            ["chat_id": 905, "text": "a", "idempotency_key": "b-1"],
            ["chat_id": 905, "text": "changed", "idempotency_key": "b-2"],
        ]])
        let items = try #require(again["messages"] as? [[String: Any]])
        #expect(items.first?["id"] as? Int == firstItems.first?["id"] as? Int)
        #expect(items.first?["existing"] as? Bool == true)
        #expect((items.last?["error"] as? [String: Any])?["code"] as? String == "idempotency_conflict")
        let ids = firstItems.compactMap { $0["id"] as? Int }
        _ = try await bed.waitFinal(ids, timeout: .seconds(10))
        #expect(bed.deliveredTexts(chat: "905") == ["a", "b", "c"])
    }
}
