import Foundation
import TGRelayCore
import Testing
import TGRelayStore

/// The batch forms the dispatcher uses to work on many lanes per store round trip.
@Suite("Conformance: batch dispatch")
struct BatchDispatchConformanceTests {
    @Test(arguments: Driver.allCases)
    func pendingLanesPageInBotThenChatOrder(driver: Driver) async throws {
        try await withStore(driver) { store, _ in
            let chats = ["10", "20", "30", "40", "50"]
            _ = try await acceptNew(store, chats.map { newMessage($0, chat: $0) } + [newMessage("x", bot: "bot2", chat: "15")])
            let all = chats.map { LaneKey(bot: "bot1", chat: $0) } + [LaneKey(bot: "bot2", chat: "15")]
            var paged: [LaneKey] = []
            while true {
                let page = try await store.pendingLanes(bot: nil, after: paged.last, limit: 2)
                #expect(page.count <= 2)
                paged += page
                if page.count < 2 { break }
            }
            #expect(paged == all)
            #expect(try await store.pendingLanes(bot: "bot1", after: LaneKey(bot: "bot1", chat: "20"), limit: 2) == [
                LaneKey(bot: "bot1", chat: "30"), LaneKey(bot: "bot1", chat: "40"),
            ])
            // A position in another bot lies before or after all of this bot's lanes.
            #expect(try await store.pendingLanes(bot: "bot2", after: LaneKey(bot: "bot1", chat: "99"), limit: 5) == [all[5]])
            #expect(try await store.pendingLanes(bot: "bot1", after: LaneKey(bot: "bot2", chat: "0"), limit: 5).isEmpty)
            #expect(try await store.pendingLanes(bot: nil, after: all[5], limit: 5).isEmpty)
            #expect(try await store.pendingLanes(bot: "bot1", after: nil, limit: 0).isEmpty)
            // A lane leaves the pages once it has nothing pending.
            _ = try await drain(store, all[0])
            #expect(try await store.pendingLanes(bot: "bot1", after: nil, limit: 1) == [all[1]])
        }
    }

    @Test(arguments: Driver.allCases)
    func laneHeadsReadManyLanesAtOnce(driver: Driver) async throws {
        try await withStore(driver) { store, _ in
            let a = try await acceptNew(store, [newMessage("a1", chat: "1"), newMessage("a2", chat: "1")])
            let b = try await acceptOne(store, newMessage("b1", chat: "2"))
            let c = try await acceptOne(store, newMessage("c1", bot: "bot2", chat: "1"))
            try await store.record(attempt(a[0].id, status: .waiting, notBefore: at(30), lastError: "timeout"))
            let heads = try await store.laneHeads([
                LaneKey(bot: "bot1", chat: "1"), LaneKey(bot: "bot1", chat: "2"), LaneKey(bot: "bot2", chat: "1"),
                LaneKey(bot: "bot1", chat: "404"),
            ])
            #expect(heads.count == 3)
            // A waiting head stays the head.
            #expect(heads[LaneKey(bot: "bot1", chat: "1")]?.id == a[0].id)
            #expect(heads[LaneKey(bot: "bot1", chat: "2")] == b)
            #expect(heads[LaneKey(bot: "bot2", chat: "1")] == c)
            #expect(try await store.laneHeads([]).isEmpty)
        }
    }

    @Test(arguments: Driver.allCases)
    func markSendingMarksOnlyQueuedOrWaiting(driver: Driver) async throws {
        try await withStore(driver) { store, _ in
            let m = try await acceptNew(store, (1...5).map { newMessage("m\($0)", chat: "\($0)") })
            try await store.markSending(id: m[0].id, now: at(1))
            _ = try await store.cancel(id: m[1].id, now: at(1))
            #expect(try await store.apply(Transition(messageID: m[2].id, at: at(1), newStatus: .waiting, notBefore: at(9))))
            let marked = try await store.markSending(ids: m.map(\.id) + [987_654], now: at(2))
            #expect(marked == [m[2].id, m[3].id, m[4].id])
            for message in m {
                let now = try #require(try await store.message(id: message.id))
                #expect(now.status == (message.id == m[1].id ? .cancelled : .sending))
                #expect(now.updatedAt == (marked.contains(message.id) ? at(2) : at(1)))
            }
            #expect(try await store.markSending(ids: [], now: at(3)).isEmpty)
        }
    }

    @Test(arguments: Driver.allCases)
    func recordManyChainsTheLedgerInTheGivenOrder(driver: Driver) async throws {
        try await withStore(driver) { store, _ in
            let m = try await acceptNew(store, (1...3).map { newMessage("m\($0)", chat: "\($0)") })
            _ = try await store.markSending(ids: m.map(\.id), now: at(1))
            try await store.record([
                delivered(m[2].id, at: at(2), telegramID: 3),
                attempt(m[0].id, at: at(2), status: .waiting, notBefore: at(5), lastError: "timeout"),
                delivered(m[1].id, at: at(2), telegramID: 2),
            ])
            #expect(try await store.message(id: m[2].id)?.telegramMessageIDs == [3])
            #expect(try await store.message(id: m[1].id)?.status == .delivered)
            let waiting = try #require(try await store.message(id: m[0].id))
            #expect(waiting.status == .waiting)
            #expect(waiting.attempts == 1)
            #expect(waiting.notBefore == at(5))
            let ledger = try await store.ledger(LedgerQuery())
            #expect(ledger.map(\.messageID) == [m[2].id, m[0].id, m[1].id])
            #expect(ledger[1].prevHash == ledger[0].hash)
            #expect(ledger[2].prevHash == ledger[1].hash)
            #expect(try await store.verifyLedger() == .valid(rows: 3))
            try await store.record([])
            #expect(try await store.ledger(LedgerQuery()).count == 3)
        }
    }

    @Test(arguments: Driver.allCases)
    func recordManyIsAllOrNothing(driver: Driver) async throws {
        try await withStore(driver) { store, _ in
            let m = try await acceptNew(store, [newMessage("a", chat: "1"), newMessage("b", chat: "2")])
            _ = try await store.markSending(ids: m.map(\.id), now: at(1))
            let error = await #expect(throws: StoreError.self) {
                try await store.record([delivered(m[0].id), delivered(555_555), delivered(m[1].id)])
            }
            #expect(error?.code == .notFound)
            #expect(try await store.message(id: m[0].id)?.status == .sending)
            #expect(try await store.message(id: m[1].id)?.status == .sending)
            #expect(try await store.ledger(LedgerQuery()).isEmpty)
            #expect(try await store.verifyLedger() == .valid(rows: 0))
        }
    }
}
