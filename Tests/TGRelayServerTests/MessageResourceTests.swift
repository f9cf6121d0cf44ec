import FakeTelegram
import Foundation
import Testing

/// `GET`/`DELETE /v1/messages/{id}`, `POST /v1/messages/batch` and `POST /v1/broadcasts` against the real relay.
@Suite(.serialized)
struct MessageResourceTests {
    @Test func statusResourceShowsEverythingAboutADelivery() async throws {
        let bed = try await TestBed.rest()
        defer { Task { try await bed.shutdown() } }
        try bed.telegram.addFault({ var f = FakeFault(kind: .internalError); f.chat = "801"; f.count = 1; return f }())
        let accepted = try await bed.post("/messages", ["chat_id": 801, "text": "status", "ttl_seconds": 600, "idempotency_key": "s-1"])
        #expect(accepted.status == 202)
        #expect(Set(accepted.object.keys) == ["id", "status"])
        #expect(accepted["status"] as? String == "queued")
        let id = try #require(accepted["id"] as? Int)
        let message = try #require(try await bed.waitFinal([id], timeout: .seconds(15))[id])
        #expect(message["id"] as? Int == id)
        #expect(message["bot"] as? String == "default")
        #expect(message["chat_id"] as? String == "801")
        #expect(message["method"] as? String == "sendMessage")
        #expect(message["status"] as? String == "delivered")
        #expect(message["attempts"] as? Int == 2)
        #expect(message["ambiguous"] as? Bool == false)
        #expect(message["at_most_once"] as? Bool == false)
        #expect(message["idempotency_key"] as? String == "s-1")
        #expect(message["last_error"] as? String == "Internal Server Error: restart", "the transient error stays visible")
        #expect(message["next_attempt_at"] == nil, "final messages have no next attempt")
        let recorded = try #require(bed.telegram.messages(bot: TestBed.botID, chat: "801").first)
        #expect((message["message_id"] as? Int).map(Int64.init) == recorded.messageID)
        #expect((message["params"] as? [String: Any])?["text"] as? String == "status")
        #expect((message["result"] as? [String: Any])?["message_id"] as? Int == message["message_id"] as? Int)
        let created = try #require(message["created_at"] as? String).iso8601Date
        let updated = try #require(message["updated_at"] as? String).iso8601Date
        let deadline = try #require(message["deliver_by"] as? String).iso8601Date
        #expect(updated >= created)
        #expect(abs(deadline.timeIntervalSince(created) - 600) < 2)

        let missing = try await bed.http.json(.GET, bed.api + "/messages/999999")
        #expect(missing.status == 404)
        #expect(missing.error["code"] as? String == "not_found")
        for bad in ["abc", "1.5", "99999999999999999999"] {
            let response = try await bed.http.json(.GET, bed.api + "/messages/\(bad)")
            #expect(response.status == 400, "\(bad)")
            #expect(response.error["code"] as? String == "invalid_field")
            #expect(response.error["field"] as? String == "id")
        }
        #expect(try await bed.http.json(.DELETE, bed.api + "/messages/abc").status == 400)
        #expect(try await bed.http.json(.DELETE, bed.api + "/messages/999999").status == 404)
    }

    @Test func deleteCancelsAQueuedMessageWhichIsNeverSent() async throws {
        let bed = try await TestBed.rest()
        defer { Task { try await bed.shutdown() } }
        let outage = try bed.telegram.addFault(FakeFault(kind: .outage))
        let doomed = try await bed.send(chat: 802, text: "cancel me")
        let kept = try await bed.send(chat: 802, text: "keep me")
        // Cancel between attempts: while an attempt is in flight the message is "sending" and not cancellable.
        #expect(try await eventually(timeout: .seconds(5), every: .milliseconds(20)) {
            try await bed.message(doomed)["status"] as? String == "waiting"
        })
        let cancelled = try await bed.http.json(.DELETE, bed.api + "/messages/\(doomed)")
        #expect(cancelled.status == 200, "\(cancelled.body)")
        #expect(cancelled["status"] as? String == "cancelled")
        #expect(cancelled["id"] as? Int == doomed)
        // DELETE is idempotent: cancelling again answers the same.
        let twice = try await bed.http.json(.DELETE, bed.api + "/messages/\(doomed)")
        #expect(twice.status == 200, "\(twice.body)")
        #expect(twice["status"] as? String == "cancelled")

        bed.telegram.removeFault(id: outage)
        let final = try await bed.waitFinal([doomed, kept], timeout: .seconds(20))
        #expect(final[doomed]?["status"] as? String == "cancelled")
        #expect(final[kept]?["status"] as? String == "delivered", "the lane moves on past a cancelled message")
        #expect(bed.deliveredTexts(chat: "802") == ["keep me"])
        #expect(try await bed.botStatus()?["cancelled"] as? Int == 1)

        let late = try await bed.http.json(.DELETE, bed.api + "/messages/\(kept)")
        #expect(late.status == 409)
        #expect(late.error["code"] as? String == "not_cancellable")
        #expect((late.error["message"] as? String)?.contains("delivered") == true)
        #expect(try await bed.message(kept)["status"] as? String == "delivered")
    }

    @Test func aBatchOfFiveHundredIsAcceptedInOrderAndDelivered() async throws {
        let bed = try await TestBed.rest()
        defer { Task { try await bed.shutdown() } }
        // 50 chats × 10 messages: order within each chat must be the batch order.
        let items: [[String: Any]] = (0..<500).map { ["chat_id": 1000 + $0 % 50, "text": "m\($0)"] }
        let response = try await bed.post("/messages/batch", ["messages": items])
        #expect(response.status == 202)
        let accepted = try #require(response["messages"] as? [[String: Any]])
        #expect(accepted.count == 500)
        let ids = accepted.compactMap { $0["id"] as? Int }
        #expect(ids.count == 500)
        #expect(ids == ids.sorted() && Set(ids).count == 500, "ids in request order")
        #expect(accepted.allSatisfy { $0["status"] as? String == "queued" })
        let final = try await bed.waitFinal(ids, timeout: .seconds(30))
        #expect(final.values.filter { $0["status"] as? String == "delivered" }.count == 500)
        for chat in 1000..<1050 {
            let expected = stride(from: chat - 1000, to: 500, by: 50).map { "m\($0)" }
            #expect(bed.deliveredTexts(chat: String(chat)) == expected)
        }
        for (index, id) in ids.enumerated().prefix(5) {
            #expect(final[id]?["chat_id"] as? String == String(1000 + index % 50))
        }
    }

    @Test func aBroadcastIsOneMessagePerChatAndIdempotentPerChat() async throws {
        let bed = try await TestBed.rest()
        defer { Task { try await bed.shutdown() } }
        let chats = (0..<50).map { 2000 + $0 }
        let body: [String: Any] = [
            "chat_ids": chats, "params": ["text": "to everyone", "disable_notification": true], "idempotency_key": "news-1",
        ]
        let response = try await bed.post("/broadcasts", body)
        #expect(response.status == 202, "\(response.body)")
        let items = try #require(response["messages"] as? [[String: Any]])
        let ids = items.compactMap { $0["id"] as? Int }
        #expect(ids.count == 50 && Set(ids).count == 50)
        let final = try await bed.waitFinal(ids, timeout: .seconds(20))
        #expect(final.values.allSatisfy { $0["status"] as? String == "delivered" })
        for (chat, id) in zip(chats, ids) {
            #expect(final[id]?["chat_id"] as? String == String(chat))
            #expect(final[id]?["idempotency_key"] as? String == "news-1:\(chat)")
        }

        let again = try await bed.post("/broadcasts", body)
        #expect(again.status == 202)
        let againItems = try #require(again["messages"] as? [[String: Any]])
        #expect(againItems.compactMap { $0["id"] as? Int } == ids)
        #expect(againItems.allSatisfy { $0["existing"] as? Bool == true })
        // The same key with the header instead of the field is the same broadcast.
        var viaHeader = body
        viaHeader["idempotency_key"] = nil
        let header = try await bed.post("/broadcasts", viaHeader, headers: ["Idempotency-Key": "news-1"])
        #expect((header["messages"] as? [[String: Any]])?.compactMap { $0["id"] as? Int } == ids)
        try await Task.sleep(for: .milliseconds(300))
        #expect(bed.recordedSends.count == 50, "nothing new was sent")
        for chat in chats { #expect(bed.deliveredTexts(chat: String(chat)) == ["to everyone"]) }
        #expect(bed.recordedSends.allSatisfy { $0.params["disable_notification"]?.boolValue == true })
        #expect(try await bed.botStatus()?["delivered"] as? Int == 50)
    }
}
