import FakeTelegram
import Foundation
import Testing

/// `/v1/dead-letters`: listing with filters, single replay, and bulk replay by filter.
@Suite(.serialized)
struct DeadLetterAPITests {
    static let secondToken = "777777:OTHER-token-SECRET"

    func chatNotFound(_ chat: String) -> FakeFault {
        var fault = FakeFault(kind: .chatNotFound)
        fault.chat = chat
        return fault
    }

    func letters(_ bed: TestBed, _ query: String = "") async throws -> [[String: Any]] {
        let response = try await bed.http.json(.GET, bed.api + "/dead-letters" + query)
        #expect(response.status == 200, "\(query): \(response.body)")
        return response["dead_letters"] as? [[String: Any]] ?? []
    }

    @Test func listFiltersReplayOneAndReplayByReason() async throws {
        let bed = try await TestBed.rest(config: REST.config(["bots": ["other"], "bot": ["other": ["token": Self.secondToken]]]))
        defer { Task { try await bed.shutdown() } }
        let faultA = try bed.telegram.addFault(chatNotFound("701"))
        let faultB = try bed.telegram.addFault(chatNotFound("702"))
        let a = try await bed.send(chat: 701, text: "to a")
        let b = try await bed.send(chat: 702, text: "to b")
        let c = try await bed.send(chat: 703, text: "<b>broken", extra: ["parse_mode": "HTML"])
        let d = try #require(try await bed.post("/messages", ["bot": "other", "method": "sendMessage", "params": ["chat_id": 704, "text": "<i>bad", "parse_mode": "HTML"]])["id"] as? Int)
        let fine = try await bed.send(chat: 705, text: "fine")
        let final = try await bed.waitFinal([a, b, c, d, fine], timeout: .seconds(15))
        #expect([a, b, c, d].allSatisfy { final[$0]?["status"] as? String == "failed" })

        let all = try await letters(bed)
        #expect(Set(all.compactMap { $0["id"] as? Int }).isSuperset(of: [a, b, c, d]))
        #expect(!all.contains { $0["id"] as? Int == fine })
        let first = try #require(all.first { $0["id"] as? Int == a })
        #expect(first["last_error"] as? String == "Bad Request: chat not found")
        #expect(first["status"] as? String == "failed")
        #expect(first["chat_id"] as? String == "701")

        #expect(try await letters(bed, "?chat_id=703").compactMap { $0["id"] as? Int } == [c])
        #expect(try await letters(bed, "?bot=other").compactMap { $0["id"] as? Int }.contains(d))
        #expect(try await letters(bed, "?bot=other").allSatisfy { $0["bot"] as? String == "other" })
        #expect(try await letters(bed, "?bot=default&chat_id=704").isEmpty)
        let notFound = try await letters(bed, "?reason=chat%20not%20found")
        #expect(Set(notFound.compactMap { $0["id"] as? Int }) == [a, b])
        let parse = try await letters(bed, "?reason=can%27t%20parse&bot=default")
        #expect(parse.compactMap { $0["id"] as? Int } == [c])
        #expect(try await letters(bed, "?limit=1").count == 1)
        let badLimit = try await bed.http.json(.GET, bed.api + "/dead-letters?limit=many")
        #expect(badLimit.status == 400)
        #expect(badLimit.error["field"] as? String == "limit")

        // One replay, after the cause is gone.
        bed.telegram.removeFault(id: faultA)
        let replayed = try await bed.post("/dead-letters/\(a)/replay", [:])
        #expect(replayed.status == 200, "\(replayed.body)")
        #expect(replayed["id"] as? Int == a)
        #expect(["queued", "sending", "delivered"].contains(replayed["status"] as? String ?? ""))
        #expect(try await bed.waitFinal([a], timeout: .seconds(10))[a]?["status"] as? String == "delivered")
        #expect(bed.deliveredTexts(chat: "701") == ["to a"])
        #expect(try await bed.post("/dead-letters/\(fine)/replay", [:]).status == 404, "a delivered message is no dead letter")
        #expect(try await bed.post("/dead-letters/999999/replay", [:]).status == 404)
        #expect(try await bed.post("/dead-letters/x/replay", [:]).status == 400)

        // Bulk replay by reason in a JSON body: only the matching dead letters.
        bed.telegram.removeFault(id: faultB)
        let bulk = try await bed.post("/dead-letters/replay", ["reason": "chat not found"])
        #expect(bulk.status == 200, "\(bulk.body)")
        #expect(bulk["replayed"] as? Int == 1)
        #expect(bulk["ids"] as? [Int] == [b])
        #expect(try await bed.waitFinal([b], timeout: .seconds(10))[b]?["status"] as? String == "delivered")
        #expect(bed.deliveredTexts(chat: "702") == ["to b"])
        #expect(try await bed.message(c)["status"] as? String == "failed", "other reasons stay dead")
        #expect(try await bed.message(d)["status"] as? String == "failed")

        // The same filter in the query, with bot and chat.
        let none = try await bed.http.json(.POST, bed.api + "/dead-letters/replay?bot=default&chat_id=704")
        #expect(none["replayed"] as? Int == 0)
        let byBot = try await bed.post("/dead-letters/replay", ["bot": "other", "limit": 10])
        #expect(byBot["ids"] as? [Int] == [d], "\(byBot.body)")
        // A body that is not JSON must not silently widen the filter to every dead letter.
        let garbled = try await bed.http.json(.POST, bed.api + "/dead-letters/replay", rawBody: #"{"reason": "can't parse""#)
        #expect(garbled.status == 400)
        #expect(garbled.error["code"] as? String == "malformed_json")
        #expect(try await bed.message(c)["status"] as? String == "failed")
    }

    @Test func reactivationNamesTheChatAsMessagesDo() async throws {
        let bed = try await TestBed.rest()
        defer { Task { try await bed.shutdown() } }
        var blocked = FakeFault(kind: .kicked)
        blocked.chat = "@BlockedChannel"
        let fault = try bed.telegram.addFault(blocked)
        let first = try await bed.send(chat: "@BlockedChannel", text: "one")
        #expect(try await bed.waitFinal([first], timeout: .seconds(10))[first]?["status"] as? String == "failed")
        let inactive = try await bed.http.json(.GET, bed.api + "/chats/inactive")["inactive_chats"] as? [[String: Any]]
        #expect(inactive?.compactMap { $0["chat_id"] as? String } == ["@blockedchannel"])
        bed.telegram.removeFault(id: fault)

        let typo = try await bed.post("/chats/defualt/%40BlockedChannel/reactivate", [:])
        #expect(typo.status == 404)
        #expect(typo.error["code"] as? String == "unknown_bot")
        let bad = try await bed.post("/chats/default/not-a-chat/reactivate", [:])
        #expect(bad.status == 400)
        #expect(bad.error["code"] as? String == "invalid_chat_id")
        // Percent-encoded and in the caller's case, like the chat_id it was sent with.
        let reactivated = try await bed.post("/chats/default/%40BlockedChannel/reactivate", [:])
        #expect(reactivated.status == 200, "\(reactivated.body)")
        #expect(reactivated["chat_id"] as? String == "@blockedchannel")
        #expect((try await bed.http.json(.GET, bed.api + "/chats/inactive")["inactive_chats"] as? [[String: Any]])?.isEmpty == true)
        let second = try await bed.send(chat: "@BlockedChannel", text: "two")
        #expect(try await bed.waitFinal([second], timeout: .seconds(10))[second]?["status"] as? String == "delivered")
    }
}
