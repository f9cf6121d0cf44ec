import Foundation
import TGRelayCore
import Testing
import TGRelayStore

@Suite("Conformance: chats, dead letters, counts")
struct ChatAndDeadLetterConformanceTests {
    @Test(arguments: Driver.allCases)
    func inactiveChats(driver: Driver) async throws {
        try await withStore(driver) { store, _ in
            try await store.setChatInactive(bot: "bot1", chat: "200", reason: "Forbidden: bot was blocked by the user", now: at(1))
            try await store.setChatInactive(bot: "bot1", chat: "100", reason: "Forbidden: user is deactivated", now: at(2))
            try await store.setChatInactive(bot: "bot2", chat: "100", reason: "Forbidden: bot was kicked", now: at(3))
            // A repeated 403 refreshes the reason and keeps the first time.
            try await store.setChatInactive(bot: "bot1", chat: "200", reason: "Forbidden: bot was kicked", now: at(9))
            #expect(try await store.inactiveReason(bot: "bot1", chat: "200") == "Forbidden: bot was kicked")
            #expect(try await store.inactiveReason(bot: "bot1", chat: "300") == nil)
            #expect(try await store.inactiveChats(bot: "bot1") == [
                InactiveChat(bot: "bot1", chat: "100", reason: "Forbidden: user is deactivated", since: at(2)),
                InactiveChat(bot: "bot1", chat: "200", reason: "Forbidden: bot was kicked", since: at(1)),
            ])
            #expect(try await store.inactiveChats(bot: nil).map(\.bot) == ["bot1", "bot1", "bot2"])
            try await store.reactivateChat(bot: "bot1", chat: "200")
            try await store.reactivateChat(bot: "bot1", chat: "404")
            #expect(try await store.inactiveReason(bot: "bot1", chat: "200") == nil)
            #expect(try await store.inactiveChats(bot: nil).count == 2)
        }
    }

    @Test(arguments: Driver.allCases)
    func deadLetterFilters(driver: Driver) async throws {
        try await withStore(driver) { store, _ in
            let m = try await acceptNew(store, [
                newMessage("a", chat: "1"), newMessage("b", chat: "2"), newMessage("c", bot: "bot2", chat: "1"),
                newMessage("d", chat: "1"), newMessage("e", chat: "3"),
            ])
            try await store.record(failed(m[0].id, reason: "Bad Request: chat not found", at: at(10)))
            try await store.record(failed(m[1].id, reason: "Forbidden: bot was blocked by the user", at: at(12)))
            try await store.record(failed(m[2].id, reason: "Bad Request: CHAT not found", at: at(11)))
            _ = try await store.apply(Transition(messageID: m[3].id, at: at(13), newStatus: .failed, lastError: "outcome_unknown"))
            _ = try await store.apply(Transition(messageID: m[4].id, at: at(14), newStatus: .expired, lastError: "deadline passed"))

            #expect(try await store.deadLetters(DeadLetterFilter()).map(\.id) == [m[3].id, m[1].id, m[2].id, m[0].id])
            #expect(try await store.deadLetters(DeadLetterFilter(limit: 2)).map(\.id) == [m[3].id, m[1].id])
            #expect(try await store.deadLetters(DeadLetterFilter(bot: "bot2")).map(\.id) == [m[2].id])
            #expect(try await store.deadLetters(DeadLetterFilter(chat: "1")).map(\.id) == [m[3].id, m[2].id, m[0].id])
            #expect(try await store.deadLetters(DeadLetterFilter(bot: "bot1", chat: "1")).map(\.id) == [m[3].id, m[0].id])
            #expect(try await store.deadLetters(DeadLetterFilter(reasonContains: "chat not found")).map(\.id) == [m[2].id, m[0].id])
            #expect(try await store.deadLetters(DeadLetterFilter(bot: "bot1", reasonContains: "blocked")).map(\.id) == [m[1].id])
            #expect(try await store.deadLetters(DeadLetterFilter(reasonContains: "deadline")).isEmpty)
            let letter = try #require(try await store.deadLetters(DeadLetterFilter(bot: "bot2")).first)
            #expect(letter.status == .failed)
            #expect(letter.lastError == "Bad Request: CHAT not found")
            #expect(letter.updatedAt == at(11))
        }
    }

    @Test(arguments: Driver.allCases)
    func replayGivesAFreshBudget(driver: Driver) async throws {
        try await withStore(driver) { store, _ in
            let m = try await acceptNew(store, [
                newMessage("a", chat: "1"), newMessage("b", chat: "2"), newMessage("c", chat: "3"), newMessage("d", chat: "4"),
            ])
            for id in [m[0].id, m[1].id, m[2].id] {
                try await store.record(attempt(id, status: .waiting, notBefore: at(2), lastError: "timeout"))
            }
            try await store.record(failed(m[0].id, reason: "Internal Server Error", at: at(5)))
            try await store.record(attempt(m[1].id, at: at(6), status: .failed, ambiguous: true, lastError: "outcome_unknown"))
            try await store.record(failed(m[2].id, reason: "Bad Request: chat not found", at: at(7)))

            let replayed = try await store.replay(ids: [m[1].id, m[3].id, 123_456, m[0].id], now: at(30))
            #expect(replayed.map(\.id) == [m[1].id, m[0].id])
            for message in replayed {
                #expect(message.status == .queued)
                #expect(message.attempts == 0)
                #expect(message.notBefore == nil)
                #expect(message.lastError == nil)
                #expect(message.updatedAt == at(30))
                #expect(try await store.message(id: message.id) == message)
            }
            #expect(replayed[0].ambiguous)
            #expect(try await store.message(id: m[3].id)?.status == .queued)
            #expect(try await store.deadLetters(DeadLetterFilter()).map(\.id) == [m[2].id])

            #expect(try await store.replayDeadLetters(DeadLetterFilter(reasonContains: "blocked"), now: at(31)).isEmpty)
            let byFilter = try await store.replayDeadLetters(DeadLetterFilter(chat: "3"), now: at(31))
            #expect(byFilter.map(\.id) == [m[2].id])
            #expect(try await store.deadLetters(DeadLetterFilter()).isEmpty)
            #expect(try await store.pendingLanes(bot: nil).count == 4)
            #expect(try await store.ledger(LedgerQuery()).count == 6)
        }
    }

    @Test(arguments: Driver.allCases)
    func countsPerBot(driver: Driver) async throws {
        try await withStore(driver) { store, _ in
            #expect(try await store.counts().isEmpty)
            let early = try await acceptNew(store, [newMessage("a"), newMessage("b"), newMessage("c"), newMessage("d")], now: at(0))
            let late = try await acceptNew(store, [newMessage("e"), newMessage("f", bot: "bot2")], now: at(100))
            try await store.record(delivered(early[0].id))
            try await store.record(failed(early[1].id, reason: "Bad Request"))
            _ = try await store.apply(Transition(messageID: early[2].id, at: at(5), newStatus: .expired))
            _ = try await store.cancel(id: late[1].id, now: at(101))
            try await store.markSending(id: early[3].id, now: at(5))
            #expect(try await store.counts() == [
                BotCounts(bot: "bot1", pending: 2, oldestPending: at(0), delivered: 1, failed: 1, expired: 1, cancelled: 0),
                BotCounts(bot: "bot2", pending: 0, oldestPending: nil, delivered: 0, failed: 0, expired: 0, cancelled: 1),
            ])
            try await store.record(delivered(early[3].id))
            #expect(try await store.counts().first == BotCounts(
                bot: "bot1", pending: 1, oldestPending: at(100), delivered: 2, failed: 1, expired: 1, cancelled: 0))
        }
    }
}
