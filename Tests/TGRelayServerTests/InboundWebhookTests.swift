import FakeTelegram
import Foundation
import TGRelayStore
import Testing

/// Telegram's webhook into the relay: `tgrelay webhook set` switches a bot from polling to webhook with a
/// generated secret; a wrong or missing secret is refused with nothing stored; a retried update is stored
/// once; `tgrelay webhook delete` returns to polling without losing anything.
@Suite(.serialized)
struct InboundWebhookTests {
    func getUpdates(_ bed: TestBed, offset: Int64 = 0) async throws -> [Int64] {
        let answer = try await bed.http.json(.POST, bed.relay.baseURL + "/bot\(TestBed.token)/getUpdates", body: ["offset": offset])
        return (answer["result"] as? [[String: Any]] ?? []).compactMap { ($0["update_id"] as? NSNumber)?.int64Value }
    }

    @Test func secretIsCheckedRetriesAreStoredOnceAndDeleteReturnsToPolling() async throws {
        let bed = try await TestBed(limits: .off, config: Inbound.config())
        defer { Task { try await bed.shutdown() } }
        let webhook = bed.relay.baseURL + "/telegram/default/webhook"
        let set = try bed.runCLI(["webhook", "set", "--url", webhook])
        #expect(set.status == 0, "\(set.output)")
        let store = try await bed.openStore()
        guard case .webhook(let secret) = try await store.inboxSettings(bot: "default").mode else {
            Issue.record("webhook mode not stored")
            return
        }
        try await store.close()
        #expect(secret.count >= 32)
        #expect(!set.output.contains(secret), "the secret is never printed")
        #expect(try await eventually(timeout: .seconds(10)) { try await bed.inboxStatus()["mode"] as? String == "webhook" })

        // Telegram pushes with the secret; the app reads through getUpdates.
        let pushed = try Inbound.inject(bed.telegram, count: 20, tag: "webhook")
        #expect(try await eventually(timeout: .seconds(20)) { try await getUpdates(bed) == pushed })

        let update: [String: Any] = ["update_id": pushed.last! + 100, "message": ["chat": ["id": 5], "text": "forged"]]
        for headers in [[:], ["X-Telegram-Bot-Api-Secret-Token": "wrong"], ["X-Telegram-Bot-Api-Secret-Token": secret + "x"]] {
            let answer = try await bed.http.json(.POST, webhook, body: update, headers: headers)
            #expect(answer.status == 401)
        }
        #expect(try await bed.inboxStatus()["stored"] as? Int == 20, "nothing stored without the secret")
        let unknownBot = try await bed.http.json(
            .POST, bed.relay.baseURL + "/telegram/other/webhook", body: update, headers: ["X-Telegram-Bot-Api-Secret-Token": secret])
        #expect(unknownBot.status == 401)

        // The right secret, twice (Telegram retrying after a lost answer): stored once.
        for _ in 0..<2 {
            let answer = try await bed.http.json(.POST, webhook, body: update, headers: ["X-Telegram-Bot-Api-Secret-Token": secret])
            #expect(answer.status == 200)
        }
        let malformed = try await bed.http.json(.POST, webhook, rawBody: #"{"message":{}}"#, headers: ["X-Telegram-Bot-Api-Secret-Token": secret])
        #expect(malformed.status == 400)
        #expect(try await bed.inboxStatus()["stored"] as? Int == 21)
        #expect(try await getUpdates(bed) == pushed + [pushed.last! + 100])

        let delete = try bed.runCLI(["webhook", "delete"])
        #expect(delete.status == 0, "\(delete.output)")
        // Telegram's ids continue after the one the test posted itself.
        let first = try #require(try bed.telegram.injectUpdate(
            bot: TestBed.botID, update: ["update_id": .int(pushed.last! + 101), "message": ["chat": ["id": 5], "text": "again"]]))
        let polled = try [first] + Inbound.inject(bed.telegram, count: 4, tag: "polling again")
        #expect(try await eventually(timeout: .seconds(20)) { try await getUpdates(bed, offset: pushed.last! + 101) == polled })
        #expect(try await bed.inboxStatus()["mode"] as? String == "polling")
    }
}
