import Foundation
import TGRelayCore
import Testing
import TGRelayStore

@Suite("Conformance: purge and retention")
struct RetentionConformanceTests {
    @Test(arguments: Driver.allCases)
    func purgeDeletesOnlyDeadLetters(driver: Driver) async throws {
        try await withStore(driver) { store, _ in
            let m = try await acceptNew(store, [
                newMessage("a", chat: "1"), newMessage("b", chat: "2"), newMessage("c", bot: "bot2", chat: "1"),
                newMessage("d", chat: "3"), newMessage("e", chat: "4"),
            ])
            try await store.record(failed(m[0].id, reason: "Bad Request: chat not found", at: at(10)))
            try await store.record(failed(m[1].id, reason: "Forbidden: bot was blocked by the user", at: at(11)))
            try await store.record(failed(m[2].id, reason: "Bad Request: chat not found", at: at(12)))
            try await store.record(delivered(m[3].id, at: at(13)))

            // Unknown, delivered and pending ids are skipped.
            #expect(try await store.purge(ids: [m[1].id, 999_999, m[3].id, m[4].id]) == [m[1].id])
            #expect(try await store.message(id: m[1].id) == nil)
            #expect(try await store.message(id: m[3].id)?.status == .delivered)
            #expect(try await store.message(id: m[4].id)?.status == .queued)
            #expect(try await store.purgeDeadLetters(DeadLetterFilter(bot: "bot2")) == [m[2].id])
            #expect(try await store.deadLetters(DeadLetterFilter()).map(\.id) == [m[0].id])
            let counts = try await store.counts()
            #expect(counts.first { $0.bot == "bot1" }?.failed == 1)
            #expect(counts.first { $0.bot == "bot2" }?.failed ?? 0 == 0)
            // The ledger keeps the attempts of purged messages and still verifies.
            #expect(try await store.ledger(LedgerQuery(messageID: m[1].id)).count == 1)
            #expect(try await store.verifyLedger() == .valid(rows: 4))
        }
    }

    @Test(arguments: Driver.allCases)
    func pruneFinishedKeepsDeadLettersAndPendingMessages(driver: Driver) async throws {
        try await withStore(driver) { store, _ in
            let m = try await acceptNew(store, [
                newMessage("old delivered", chat: "1"), newMessage("old failed", chat: "2"), newMessage("old expired", chat: "3"),
                newMessage("new delivered", chat: "4"), newMessage("pending", chat: "5"), newMessage("old cancelled", chat: "6"),
            ])
            try await store.record(delivered(m[0].id, at: at(10)))
            try await store.record(failed(m[1].id, reason: "Bad Request: chat not found", at: at(10)))
            _ = try await store.apply(Transition(messageID: m[2].id, at: at(10), newStatus: .expired, lastError: "deadline passed"))
            try await store.record(delivered(m[3].id, at: at(100)))
            _ = try await store.cancel(id: m[5].id, now: at(10))

            #expect(try await store.pruneFinishedMessages(before: at(50)) == 3)
            #expect(try await store.message(id: m[0].id) == nil)
            #expect(try await store.message(id: m[2].id) == nil)
            #expect(try await store.message(id: m[5].id) == nil)
            #expect(try await store.message(id: m[1].id)?.status == .failed)
            #expect(try await store.message(id: m[3].id)?.status == .delivered)
            #expect(try await store.message(id: m[4].id)?.status == .queued)
            let counts = try #require(try await store.counts().first { $0.bot == "bot1" })
            #expect(counts.delivered == 1 && counts.failed == 1 && counts.expired == 0 && counts.pending == 1)
            #expect(try await store.pruneFinishedMessages(before: at(50)) == 0)
            // A pruned message's id is never handed out again.
            let next = try await acceptOne(store, newMessage("after", chat: "7"))
            #expect(next.id > m[5].id)
        }
    }

    /// More finished messages than one pruning batch, with a pending one and a young one among them: every
    /// batch continues where the last stopped and all old finished messages go.
    @Test(arguments: Driver.allCases)
    func pruneFinishedWorksThroughSeveralBatches(driver: Driver) async throws {
        try await withStore(driver) { store, _ in
            let count = 5_003
            let m = try await acceptNew(store, (0..<count).map { newMessage("m\($0)", chat: "\($0 % 50)") })
            let pending = 2_500
            let young = count - 1
            let finished = m.indices.filter { $0 != pending && $0 != young }.map { delivered(m[$0].id, at: at(10)) }
            // In groups of the size the dispatcher records (one transaction each).
            for start in stride(from: 0, to: finished.count, by: 200) {
                try await store.record(Array(finished[start..<min(start + 200, finished.count)]))
            }
            try await store.record(delivered(m[young].id, at: at(100)))
            #expect(try await store.pruneFinishedMessages(before: at(50)) == count - 2)
            #expect(try await store.message(id: m[pending].id)?.status == .queued)
            #expect(try await store.message(id: m[young].id)?.status == .delivered)
            #expect(try await store.message(id: m[pending + 1].id) == nil)
        }
    }
}
