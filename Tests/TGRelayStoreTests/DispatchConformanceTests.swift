import Foundation
import TGRelayCore
import Testing
import TGRelayStore

@Suite("Conformance: lanes and dispatch")
struct DispatchConformanceTests {
    @Test(arguments: Driver.allCases)
    func pendingLanesAndHeadsFollowAcceptOrder(driver: Driver) async throws {
        try await withStore(driver) { store, _ in
            let a = try await acceptNew(store, [newMessage("a1", chat: "200"), newMessage("a2", chat: "200")])
            let b = try await acceptOne(store, newMessage("b1", bot: "bot2", chat: "100"))
            let c = try await acceptOne(store, newMessage("c1", chat: "100"))
            let a3 = try await acceptOne(store, newMessage("a3", chat: "200"))
            #expect(try await store.pendingLanes(bot: nil) == [
                LaneKey(bot: "bot1", chat: "100"), LaneKey(bot: "bot1", chat: "200"), LaneKey(bot: "bot2", chat: "100"),
            ])
            #expect(try await store.pendingLanes(bot: "bot2") == [LaneKey(bot: "bot2", chat: "100")])
            #expect(try await store.pendingLanes(bot: "nobody").isEmpty)
            #expect(try await store.laneHead(LaneKey(bot: "bot2", chat: "100")) == b)
            #expect(try await store.laneHead(LaneKey(bot: "bot1", chat: "100")) == c)
            #expect(try await store.laneHead(LaneKey(bot: "bot1", chat: "999")) == nil)
            // A waiting head stays the head: the next message is not sent before it is final.
            try await store.record(attempt(a[0].id, status: .waiting, notBefore: at(30), lastError: "timeout"))
            #expect(try await store.laneHead(LaneKey(bot: "bot1", chat: "200"))?.id == a[0].id)
            #expect(try await drain(store, LaneKey(bot: "bot1", chat: "200")) == [a[0].id, a[1].id, a3.id])
            #expect(try await store.pendingLanes(bot: "bot1") == [LaneKey(bot: "bot1", chat: "100")])
        }
    }

    @Test(arguments: Driver.allCases)
    func markSendingOnlyFromQueuedOrWaiting(driver: Driver) async throws {
        try await withStore(driver) { store, _ in
            let m = try await acceptNew(store, [newMessage("a"), newMessage("b"), newMessage("c")])
            #expect(try await store.markSending(id: m[0].id, now: at(1)))
            let sending = try await store.message(id: m[0].id)
            #expect(sending?.status == .sending)
            #expect(sending?.updatedAt == at(1))
            #expect(try await !store.markSending(id: m[0].id, now: at(2)))
            _ = try await store.cancel(id: m[1].id, now: at(1))
            #expect(try await !store.markSending(id: m[1].id, now: at(2)))
            #expect(try await store.message(id: m[1].id)?.status == .cancelled)
            #expect(try await store.apply(Transition(messageID: m[2].id, at: at(1), newStatus: .waiting, notBefore: at(9))))
            #expect(try await store.markSending(id: m[2].id, now: at(10)))
            #expect(try await !store.markSending(id: 987_654, now: at(2)))
        }
    }

    @Test(arguments: Driver.allCases)
    func recordUpdatesTheMessage(driver: Driver) async throws {
        try await withStore(driver) { store, _ in
            let m = try await acceptOne(store, newMessage())
            try await store.markSending(id: m.id, now: at(1))
            try await store.record(attempt(m.id, at: at(2), status: .waiting, ambiguous: true, notBefore: at(4), lastError: "timeout"))
            var now = try #require(try await store.message(id: m.id))
            #expect(now.status == .waiting)
            #expect(now.attempts == 1)
            #expect(now.notBefore == at(4))
            #expect(now.lastError == "timeout")
            #expect(now.ambiguous)
            #expect(now.updatedAt == at(2))
            // A 429 does not count, and `ambiguous` stays set once set.
            try await store.record(attempt(m.id, at: at(5), status: .waiting, counts: false, httpStatus: 429, notBefore: at(8), lastError: "Too Many Requests"))
            now = try #require(try await store.message(id: m.id))
            #expect(now.attempts == 1)
            #expect(now.ambiguous)
            #expect(now.notBefore == at(8))
            try await store.record(delivered(m.id, at: at(9), telegramID: 4242))
            now = try #require(try await store.message(id: m.id))
            #expect(now.status == .delivered)
            #expect(now.attempts == 2)
            #expect(now.notBefore == nil)
            #expect(now.lastError == nil)
            #expect(now.telegramMessageIDs == [4242])
            #expect(now.result == #"{"message_id":4242}"#)
            #expect(try await store.ledger(LedgerQuery(messageID: m.id)).count == 3)
            let error = await #expect(throws: StoreError.self) { try await store.record(delivered(555_555)) }
            #expect(error?.code == .notFound)
        }
    }

    @Test(arguments: Driver.allCases)
    func applyChangesOnlyNonFinalMessages(driver: Driver) async throws {
        try await withStore(driver) { store, _ in
            let m = try await acceptNew(store, [newMessage("a"), newMessage("b")])
            #expect(try await store.apply(Transition(messageID: m[0].id, at: at(3), newStatus: .expired, lastError: "deadline passed")))
            let expired = try await store.message(id: m[0].id)
            #expect(expired?.status == .expired)
            #expect(expired?.lastError == "deadline passed")
            #expect(expired?.updatedAt == at(3))
            #expect(try await !store.apply(Transition(messageID: m[0].id, at: at(4), newStatus: .failed, lastError: "x")))
            #expect(try await store.message(id: m[0].id) == expired)
            #expect(try await !store.apply(Transition(messageID: 31_337, at: at(4), newStatus: .failed)))
            #expect(try await store.apply(Transition(messageID: m[1].id, at: at(5), newStatus: .failed, lastError: "Forbidden: bot was blocked by the user")))
            #expect(try await store.deadLetters(DeadLetterFilter()).map(\.id) == [m[1].id])
            #expect(try await store.pendingLanes(bot: nil).isEmpty)
        }
    }

    @Test(arguments: Driver.allCases)
    func cancelOnlyQueuedOrWaiting(driver: Driver) async throws {
        try await withStore(driver) { store, _ in
            let m = try await acceptNew(store, [newMessage("a"), newMessage("b"), newMessage("c")])
            let cancelled = try await store.cancel(id: m[0].id, now: at(2))
            #expect(cancelled?.status == .cancelled)
            #expect(cancelled?.updatedAt == at(2))
            try await store.markSending(id: m[1].id, now: at(1))
            #expect(try await store.cancel(id: m[1].id, now: at(3))?.status == .sending)
            try await store.record(delivered(m[1].id))
            #expect(try await store.cancel(id: m[1].id, now: at(3))?.status == .delivered)
            _ = try await store.apply(Transition(messageID: m[2].id, at: at(1), newStatus: .waiting, notBefore: at(60)))
            #expect(try await store.cancel(id: m[2].id, now: at(3))?.status == .cancelled)
            #expect(try await store.cancel(id: 77_777, now: at(3)) == nil)
            #expect(try await store.pendingLanes(bot: nil).isEmpty)
        }
    }

    @Test(arguments: Driver.allCases)
    func recoveryOfInterruptedSends(driver: Driver) async throws {
        try await withStore(driver) { store, _ in
            let lane = try await acceptNew(store, [newMessage("a", chat: "1"), newMessage("b", chat: "1")])
            let once = try await acceptOne(store, newMessage("otp", chat: "2", atMostOnce: true))
            let idle = try await acceptOne(store, newMessage("c", chat: "3"))
            try await store.markSending(id: lane[0].id, now: at(1))
            try await store.markSending(id: once.id, now: at(1))
            #expect(try await store.recoverInterruptedSends(bot: "bot1", now: at(50)) == 2)

            let retried = try #require(try await store.message(id: lane[0].id))
            #expect(retried.status == .waiting)
            #expect(retried.ambiguous)
            #expect(retried.updatedAt == at(50))
            #expect(try await store.laneHead(LaneKey(bot: "bot1", chat: "1"))?.id == lane[0].id)

            let dead = try #require(try await store.message(id: once.id))
            #expect(dead.status == .failed)
            #expect(dead.lastError == "outcome_unknown")
            #expect(dead.ambiguous)
            #expect(try await store.deadLetters(DeadLetterFilter(reasonContains: "outcome_unknown")).map(\.id) == [once.id])

            #expect(try await store.message(id: idle.id)?.status == .queued)
            #expect(try await store.message(id: idle.id)?.ambiguous == false)
            #expect(try await store.recoverInterruptedSends(bot: "bot1", now: at(51)) == 0)
        }
    }

    @Test(arguments: Driver.allCases)
    func replayMovesAMessageToTheEndOfItsLane(driver: Driver) async throws {
        try await withStore(driver) { store, _ in
            let lane = LaneKey(bot: "bot1", chat: "100")
            let m = try await acceptNew(store, [newMessage("a"), newMessage("b"), newMessage("c")])
            try await store.markSending(id: m[0].id, now: at(1))
            try await store.record(failed(m[0].id, reason: "Bad Request: message is too long"))
            #expect(try await store.laneHead(lane)?.id == m[1].id)
            let replayed = try await store.replay(ids: [m[0].id], now: at(20))
            #expect(replayed.map(\.id) == [m[0].id])
            #expect(try await drain(store, lane) == [m[1].id, m[2].id, m[0].id])
        }
    }

    @Test(arguments: Driver.allCases)
    func migrationMergesLanesInAcceptOrder(driver: Driver) async throws {
        try await withStore(driver) { store, _ in
            let old = LaneKey(bot: "bot1", chat: "-100")
            let new = LaneKey(bot: "bot1", chat: "-100999")
            let a1 = try await acceptOne(store, newMessage("a1", chat: old.chat))
            let b1 = try await acceptOne(store, newMessage("b1", chat: new.chat))
            let a2 = try await acceptOne(store, newMessage("a2", chat: old.chat))
            let other = try await acceptOne(store, newMessage("x", bot: "bot2", chat: old.chat))
            let done = try await acceptOne(store, newMessage("a0", chat: old.chat))
            _ = try await store.cancel(id: done.id, now: at(1))
            try await store.markSending(id: a1.id, now: at(1))

            try await store.migrateChat(bot: "bot1", from: old.chat, to: new.chat, now: at(2))
            #expect(try await store.pendingLanes(bot: "bot1") == [new])
            #expect(try await store.pendingLanes(bot: "bot2") == [LaneKey(bot: "bot2", chat: old.chat)])
            #expect(try await store.message(id: a1.id)?.chat == new.chat)
            #expect(try await store.message(id: a1.id)?.status == .sending)
            #expect(try await store.message(id: done.id)?.chat == old.chat)
            #expect(try await store.message(id: other.id)?.chat == old.chat)
            #expect(try await store.chatMigration(bot: "bot1", chat: old.chat) == new.chat)
            #expect(try await store.chatMigration(bot: "bot2", chat: old.chat) == nil)
            #expect(try await store.chatMigration(bot: "bot1", chat: new.chat) == nil)

            // The migrating attempt goes back to the lane, which then drains in accept order.
            try await store.record(attempt(a1.id, status: .queued, counts: false, httpStatus: 400, description: "migrated"))
            #expect(try await drain(store, new) == [a1.id, b1.id, a2.id])

            try await store.migrateChat(bot: "bot1", from: new.chat, to: "-100777", now: at(3))
            #expect(try await store.chatMigration(bot: "bot1", chat: old.chat) == "-100777")
            #expect(try await store.chatMigration(bot: "bot1", chat: new.chat) == "-100777")
        }
    }
}
