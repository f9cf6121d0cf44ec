import FakeTelegram
import Foundation
import Testing

/// `/v1/ledger` filters and paging, the JSON Lines export, and `tgrelay ledger verify` on the store file,
/// before and after a row is edited behind the relay's back.
@Suite(.serialized)
struct LedgerAPITests {
    func entries(_ bed: TestBed, _ query: String) async throws -> [[String: Any]] {
        let response = try await bed.http.json(.GET, bed.api + "/ledger" + query)
        #expect(response.status == 200, "\(query): \(response.body)")
        return response["entries"] as? [[String: Any]] ?? []
    }

    func seqs(_ rows: [[String: Any]]) -> [Int] { rows.compactMap { $0["seq"] as? Int } }

    @Test func filtersPagingExportAndVerification() async throws {
        let bed = try await TestBed.rest()
        defer { Task { try await bed.shutdown() } }
        var fault = FakeFault(kind: .internalError)
        fault.chat = "711"
        fault.count = 1
        try bed.telegram.addFault(fault)
        let plain = try await bed.send(chat: 712, text: "one")
        let channel = try await bed.send(chat: "@LedgerChannel", text: "two")
        let retried = try await bed.send(chat: 711, text: "three")
        let more = try await bed.send(chat: 712, text: "four")
        let final = try await bed.waitFinal([plain, channel, retried, more], timeout: .seconds(15))
        #expect(final.values.allSatisfy { $0["status"] as? String == "delivered" })

        let all = try await entries(bed, "")
        #expect(all.count == 5)
        #expect(seqs(all) == seqs(all).sorted())
        let row = try #require(all.first { $0["message_id"] as? Int == plain })
        for key in ["seq", "at", "message_id", "bot", "chat_id", "method", "payload_sha256", "endpoint", "http_status", "ok",
                    "outcome", "ambiguous", "duration_ms", "prev_hash", "hash", "telegram_message_ids", "response_body"] {
            #expect(row[key] != nil, "ledger row lacks \(key): \(row)")
        }
        #expect(!(row["endpoint"] as? String ?? "").contains(TestBed.token), "the endpoint never carries the token")
        #expect(row["ok"] as? Bool == true)
        #expect(row["http_status"] as? Int == 200)

        let forRetried = try await entries(bed, "?message_id=\(retried)")
        #expect(forRetried.map { $0["outcome"] as? String } == ["transient", "delivered"])
        #expect(forRetried.first?["http_status"] as? Int == 500)
        #expect(Set(try await entries(bed, "?chat_id=712").compactMap { $0["message_id"] as? Int }) == [plain, more])
        // A chat filter is a chat reference like chat_id in a message: usernames in any case.
        #expect(try await entries(bed, "?chat_id=@LedgerChannel").compactMap { $0["message_id"] as? Int } == [channel])
        #expect(try await entries(bed, "?chat_id=@ledgerchannel").count == 1)
        #expect(try await entries(bed, "?bot=default").count == 5)
        #expect(try await entries(bed, "?bot=nobody").isEmpty)

        // since is inclusive, until exclusive, both ISO-8601 or Unix seconds.
        let times = try all.map { try #require($0["at"] as? String).iso8601Date }
        let middle = times[2]
        let middleText = try #require(all[2]["at"] as? String)
        let since = try await entries(bed, "?since=\(middleText)")
        #expect(seqs(since) == seqs(all).enumerated().filter { times[$0.offset] >= middle }.map(\.element))
        let until = try await entries(bed, "?until=\(middleText)")
        #expect(seqs(until) == seqs(all).enumerated().filter { times[$0.offset] < middle }.map(\.element))
        let unix = try await entries(bed, "?since=\(middle.timeIntervalSince1970)")
        #expect(seqs(unix) == seqs(since))
        #expect(try await entries(bed, "?since=2999-01-01T00:00:00Z").isEmpty)

        // Paging: after_seq and limit walk the whole ledger without gaps or repeats.
        var paged: [Int] = []
        var after = 0
        while true {
            let page = try await entries(bed, "?after_seq=\(after)&limit=2")
            #expect(page.count <= 2)
            guard let last = page.last?["seq"] as? Int else { break }
            paged += seqs(page)
            after = last
        }
        #expect(paged == seqs(all))
        for bad in ["limit=0", "limit=1001", "after_seq=x", "message_id=1.5", "since=yesterday"] {
            let response = try await bed.http.json(.GET, bed.api + "/ledger?" + bad)
            #expect(response.status == 400, "\(bad)")
            #expect(response.error["field"] as? String == String(bad.prefix { $0 != "=" }))
        }

        // The export: JSON Lines, one object per attempt, the same filters.
        let export = try await bed.http.json(.GET, bed.api + "/ledger/export")
        #expect(export.status == 200)
        #expect(export.headers["content-type"] == "application/x-ndjson")
        let text = try #require(export.body as? String)
        let lines = text.split(separator: "\n")
        #expect(text.hasSuffix("\n"))
        #expect(lines.count == 5)
        let objects = lines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(objects.count == 5)
        #expect(seqs(objects) == seqs(all))
        #expect(objects.map { $0["hash"] as? String } == all.map { $0["hash"] as? String })
        let filtered = try await bed.http.json(.GET, bed.api + "/ledger/export?message_id=\(retried)")
        #expect((filtered.body as? String)?.split(separator: "\n").count == 2)
        let empty = try await bed.http.json(.GET, bed.api + "/ledger/export?bot=nobody")
        #expect(empty.status == 200)
        #expect((empty.body as? String ?? "x").isEmpty)

        // Verification with the binary, on the stopped relay's file.
        #expect(bed.relay.terminate() == 0)
        let database = "sqlite:\(bed.relay.databasePath)"
        let intact = try runProcess(RelayProcess.binary, ["ledger", "verify", "--database", database])
        #expect(intact.status == 0, "\(intact.output)")
        #expect(intact.output.contains("ledger intact"))
        #expect(intact.output.contains("5 rows"))

        let edited = try #require(all[1]["seq"] as? Int)
        let sql = try runSQL("UPDATE ledger SET description = 'nothing happened' WHERE seq = \(edited);", database: bed.relay.databasePath)
        #expect(sql.status == 0, "\(sql.output)")
        let broken = try runProcess(RelayProcess.binary, ["ledger", "verify", "--database", database])
        #expect(broken.status == 1, "\(broken.output)")
        #expect(broken.output.contains("row \(edited)"), "\(broken.output)")
    }

    @Test func verifyNamesADeletedRow() async throws {
        let bed = try await TestBed.rest()
        defer { Task { try await bed.shutdown() } }
        let ids = [try await bed.send(chat: 721, text: "a"), try await bed.send(chat: 722, text: "b"), try await bed.send(chat: 723, text: "c")]
        _ = try await bed.waitFinal(ids, timeout: .seconds(10))
        let all = try await entries(bed, "")
        #expect(all.count == 3)
        bed.relay.kill9()
        let middle = try #require(all[1]["seq"] as? Int)
        #expect(try runSQL("DELETE FROM ledger WHERE seq = \(middle);", database: bed.relay.databasePath).status == 0)
        let broken = try runProcess(RelayProcess.binary, ["ledger", "verify", "--database", "sqlite:\(bed.relay.databasePath)"])
        #expect(broken.status == 1, "\(broken.output)")
        #expect(broken.output.contains("row \(middle + 1)") || broken.output.contains("row \(middle)"), "\(broken.output)")
    }
}
