import FakeTelegram
import Foundation
import Logging
import TGRelayStore
import Testing

@testable import TGRelayServer

/// Retention: old ledger rows and finished messages go, dead letters stay, the chain still verifies.
@Suite(.serialized)
struct RetentionTests {
    @Test func defaultRetentionKeepsNinetyDaysAndTheChainVerifiable() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try await makeStore(.sqlite(path: directory.appendingPathComponent("retention.sqlite").path))
        let housekeeper = try #require(Housekeeper(configuration: RelayConfiguration(), store: store, logger: Logger(label: "test")))
        #expect(housekeeper.maximumAge == 90 * 86_400)

        let t0 = Date()
        let accepted = try await store.accept(
            (1...3).map { NewMessage(bot: "default", chat: "\($0)", method: "sendMessage", params: "{}", payloadHash: "h\($0)") }, now: t0)
        var ids = accepted.compactMap { if case .created(let message) = $0 { message.id } else { nil } }
        // A fourth message a month later: its row is young enough to stay, chained on the pruned ones.
        let t1 = t0.addingTimeInterval(30 * 86_400)
        let later = try await store.accept([NewMessage(bot: "default", chat: "4", method: "sendMessage", params: "{}", payloadHash: "h4")], now: t1)
        ids += later.compactMap { if case .created(let message) = $0 { message.id } else { nil } }
        for (index, id) in ids.enumerated() {
            let failed = index == 2
            try await store.record(AttemptRecord(
                messageID: id, at: index == 3 ? t1 : t0, endpoint: "https://api.telegram.org", method: "sendMessage",
                httpStatus: failed ? 400 : 200, ok: !failed, durationMs: 5, responseBody: "{}", outcome: failed ? "rejected" : "delivered",
                newStatus: failed ? .failed : .delivered, countsAsAttempt: true, lastError: failed ? "Bad Request: chat not found" : nil))
        }

        // 89 days later nothing is old enough; 91 days later the ledger and the delivered messages go.
        await housekeeper.prune(now: t0.addingTimeInterval(89 * 86_400))
        #expect(try await store.ledger(LedgerQuery()).count == 4)
        await housekeeper.prune(now: t0.addingTimeInterval(91 * 86_400))
        #expect(try await store.ledger(LedgerQuery()).map(\.messageID) == [ids[3]])
        #expect(try await store.message(id: ids[0]) == nil)
        #expect(try await store.message(id: ids[1]) == nil)
        #expect(try await store.message(id: ids[3])?.status == .delivered)
        #expect(try await store.deadLetters(DeadLetterFilter()).map(\.id) == [ids[2]], "dead letters stay until replayed or purged")
        // The remaining row verifies from the anchor the pruned rows left.
        #expect(try await store.verifyLedger() == .valid(rows: 1))
        try await store.close()
    }

    @Test func theRunningRelayPrunesByItselfAndSurvivesARestart() async throws {
        // About a second of retention, checked every second.
        let bed = try await TestBed.rest(config: REST.config(["retention": ["days": 1.0 / 86_400, "interval_seconds": 1]]))
        defer { Task { try await bed.shutdown() } }
        var notFound = FakeFault(kind: .chatNotFound)
        notFound.chat = "-4040"
        try bed.telegram.addFault(notFound)
        let delivered = try await bed.send(chat: 51, text: "short-lived")
        let dead = try await bed.send(chat: -4040, text: "kept")
        _ = try await bed.waitFinal([delivered, dead], timeout: .seconds(10))

        #expect(try await eventually(timeout: .seconds(10)) {
            let message = try await bed.http.json(.GET, bed.api + "/messages/\(delivered)")
            let ledger = try await bed.http.json(.GET, bed.api + "/ledger")["entries"] as? [Any]
            return message.status == 404 && ledger?.isEmpty == true
        }, "the delivered message and every ledger row were pruned")
        #expect(try await bed.http.json(.GET, bed.api + "/messages/\(dead)")["status"] as? String == "failed")
        #expect(bed.relay.logText.contains("retention: old rows deleted"))

        // The anchor is durable: after kill -9 and a restart, new rows chain on and everything verifies.
        bed.relay.kill9()
        try await bed.relay.start(http: bed.http)
        let next = try await bed.send(chat: 52, text: "after restart")
        #expect(try await bed.waitFinal([next])[next]?["status"] as? String == "delivered")
        let verify = try CLITests.tgrelay(["ledger", "verify", "--database", "sqlite:" + bed.relay.databasePath])
        #expect(verify.status == 0 && verify.output.contains("ledger intact"), "\(verify.output)")
    }
}
