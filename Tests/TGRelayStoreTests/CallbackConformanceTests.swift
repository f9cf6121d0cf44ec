import Foundation
import TGRelayCore
import Testing
import TGRelayStore

@Suite("Conformance: status callbacks")
struct CallbackConformanceTests {
    func withCallback(_ text: String, chat: String = "100", url: String? = "http://127.0.0.1:9/hook") -> NewMessage {
        var message = newMessage(text, chat: chat)
        message.callbackURL = url
        return message
    }

    @Test(arguments: Driver.allCases)
    func everyFinalTransitionOwesExactlyOneCallback(driver: Driver) async throws {
        try await withStore(driver) { store, _ in
            let m = try await acceptNew(store, [
                withCallback("d", chat: "1"), withCallback("f", chat: "2"), withCallback("e", chat: "3"),
                withCallback("c", chat: "4"), withCallback("w", chat: "5"), withCallback("none", chat: "6", url: nil),
            ])
            try await store.markSending(id: m[0].id, now: at(1))
            try await store.record(delivered(m[0].id, at: at(2), telegramID: 77))
            try await store.record(failed(m[1].id, reason: "Forbidden: bot was blocked by the user", at: at(2)))
            #expect(try await store.apply(Transition(messageID: m[2].id, at: at(2), newStatus: .expired, lastError: "deadline_passed")))
            _ = try await store.cancel(id: m[3].id, now: at(2))
            // Not final: no callback.
            try await store.record(attempt(m[4].id, at: at(2), status: .waiting, notBefore: at(5), lastError: "timeout"))
            try await store.record(delivered(m[5].id, at: at(2)))
            // Final states never change, so repeating a transition owes nothing more.
            #expect(try await !store.apply(Transition(messageID: m[2].id, at: at(3), newStatus: .failed)))
            _ = try await store.cancel(id: m[3].id, now: at(3))

            let due = try await store.dueCallbacks(now: at(2), limit: 100)
            #expect(due.map(\.messageID) == [m[0].id, m[1].id, m[2].id, m[3].id])
            #expect(due.map(\.event) == [.delivered, .failed, .expired, .cancelled])
            #expect(due.allSatisfy { $0.url == "http://127.0.0.1:9/hook" && $0.state == .pending && $0.tries == 0 })
            #expect(due[0].telegramMessageIDs == [77])
            #expect(due[0].messageAttempts == 1)
            #expect(due[0].at == at(2))
            #expect(due[0].bot == "bot1")
            #expect(due[0].chat == "1")
            #expect(due[1].lastError == "Forbidden: bot was blocked by the user")
            #expect(due[2].lastError == "deadline_passed")
            #expect(try await store.dueCallbacks(now: at(1), limit: 100).isEmpty)
            for message in m {
                #expect(try await store.callbacks(messageID: message.id).count == (message.id <= m[3].id ? 1 : 0))
            }
        }
    }

    @Test(arguments: Driver.allCases)
    func retryDeliverAndGiveUp(driver: Driver) async throws {
        try await withStore(driver) { store, _ in
            let m = try await acceptNew(store, [withCallback("a", chat: "1"), withCallback("b", chat: "2")])
            try await store.record(delivered(m[0].id, at: at(1)))
            try await store.record(delivered(m[1].id, at: at(1)))
            let due = try await store.dueCallbacks(now: at(1), limit: 10)
            try await store.recordCallbackAttempt(id: due[0].id, at: at(1), outcome: .retry(at: at(3), error: "HTTP 503"))
            try await store.recordCallbackAttempt(id: due[1].id, at: at(1), outcome: .gaveUp(error: "HTTP 500"))
            #expect(try await store.dueCallbacks(now: at(2), limit: 10).isEmpty)
            let retried = try #require(try await store.dueCallbacks(now: at(3), limit: 10).first)
            #expect(retried.tries == 1)
            #expect(retried.lastAttemptError == "HTTP 503")
            #expect(retried.nextAttemptAt == at(3))
            try await store.recordCallbackAttempt(id: retried.id, at: at(3), outcome: .delivered)
            // A settled callback stays settled, even if a late outcome arrives for it.
            try await store.recordCallbackAttempt(id: retried.id, at: at(4), outcome: .gaveUp(error: "late"))
            #expect(try await store.dueCallbacks(now: at(100), limit: 10).isEmpty)

            let done = try #require(try await store.callbacks(state: .delivered, limit: 10).first)
            #expect(done.id == due[0].id)
            #expect(done.tries == 2)
            #expect(done.completedAt == at(3))
            #expect(done.lastAttemptError == nil)
            let failed = try await store.callbacks(state: .failed, limit: 10)
            #expect(failed.map(\.id) == [due[1].id])
            #expect(failed.first?.lastAttemptError == "HTTP 500")
            #expect(try await store.callbacks(state: nil, limit: 10).map(\.id) == [due[1].id, due[0].id])
            #expect(try await store.callbacks(state: .pending, limit: 10).isEmpty)
        }
    }

    @Test(arguments: Driver.allCases)
    func theDefaultURLAppliesOnlyToMessagesWithoutTheirOwn(driver: Driver) async throws {
        let options = StoreConfiguration.Options(defaultCallbackURL: "http://127.0.0.1:9/global")
        try await withStore(driver, options: options) { store, _ in
            let m = try await acceptNew(store, [withCallback("own", chat: "1"), withCallback("global", chat: "2", url: nil)])
            try await store.record(delivered(m[0].id))
            try await store.record(delivered(m[1].id))
            let due = try await store.dueCallbacks(now: at(1), limit: 10)
            #expect(due.map(\.url) == ["http://127.0.0.1:9/hook", "http://127.0.0.1:9/global"])
        }
    }

    /// A node reads past the bots other nodes serve, so their older backlog cannot hide its own.
    @Test(arguments: Driver.allCases)
    func dueCallbacksLeaveOutBotsServedElsewhere(driver: Driver) async throws {
        try await withStore(driver) { store, _ in
            var other = withCallback("other bot", chat: "1")
            other.bot = "bot2"
            let m = try await acceptNew(store, [withCallback("first", chat: "1"), withCallback("second", chat: "2"), other])
            for message in m {
                try await store.record(delivered(message.id))
            }
            #expect(try await store.dueCallbacks(now: at(1), limit: 1, excludingBots: ["bot1"]).map(\.messageID) == [m[2].id])
            #expect(try await store.dueCallbacks(now: at(1), limit: 10, excludingBots: ["bot2", "bot3"]).map(\.messageID) == [m[0].id, m[1].id])
            #expect(try await store.dueCallbacks(now: at(1), limit: 10, excludingBots: ["bot1", "bot2"]).isEmpty)
            #expect(try await store.dueCallbacks(now: at(1), limit: 10).count == 3)
        }
    }

    /// The default URL is the one the store was last opened with; messages with their own URL get theirs
    /// whatever it is.
    @Test(arguments: Driver.allCases)
    func theDefaultURLFollowsTheLatestOpen(driver: Driver) async throws {
        let harness = try driver.makeHarness()
        defer { harness.remove() }
        let global = StoreConfiguration.Options(defaultCallbackURL: "http://127.0.0.1:9/global")
        var owed: [String] = []
        for (round, options) in [global, StoreConfiguration.Options(), global].enumerated() {
            let store = try await harness.open(options: options)
            let m = try await acceptNew(
                store, [withCallback("own \(round)", chat: "1"), withCallback("global \(round)", chat: "2", url: nil)])
            try await store.record(delivered(m[0].id))
            try await store.record(delivered(m[1].id))
            owed = try await store.dueCallbacks(now: at(1), limit: 10).map(\.url)
            try await store.close()
        }
        #expect(owed == [
            "http://127.0.0.1:9/hook", "http://127.0.0.1:9/global", "http://127.0.0.1:9/hook",
            "http://127.0.0.1:9/hook", "http://127.0.0.1:9/global",
        ])
    }

    @Test(arguments: Driver.allCases)
    func owedCallbacksSurviveReopenAndCrashRecoveryOwesOne(driver: Driver) async throws {
        let harness = try driver.makeHarness()
        defer { harness.remove() }
        var store = try await harness.open()
        var unsafe = withCallback("unsafe", chat: "2")
        unsafe.atMostOnce = true
        let m = try await acceptNew(store, [withCallback("a", chat: "1"), unsafe])
        try await store.record(delivered(m[0].id, at: at(1)))
        try await store.markSending(id: m[1].id, now: at(1))
        try await store.close()

        // Reopened without the default URL: what was owed stays owed, with its own URL.
        store = try await harness.open()
        #expect(try await store.recoverInterruptedSends(bot: "bot1", now: at(2)) == 1)
        let due = try await store.dueCallbacks(now: at(2), limit: 10)
        #expect(due.map(\.messageID) == [m[0].id, m[1].id])
        #expect(due.map(\.event) == [.delivered, .failed])
        #expect(due[1].lastError == "outcome_unknown")
        #expect(due[1].ambiguous)
        try await store.recordCallbackAttempt(id: due[0].id, at: at(3), outcome: .retry(at: at(4), error: "HTTP 502"))
        try await store.close()

        store = try await harness.open()
        let again = try await store.dueCallbacks(now: at(4), limit: 10)
        #expect(again.map(\.id) == [due[1].id, due[0].id])
        #expect(again.last?.tries == 1)
        try await store.close()
    }

    @Test(arguments: Driver.allCases)
    func aReplayedMessageOwesANewCallbackWhenFinalAgain(driver: Driver) async throws {
        try await withStore(driver) { store, _ in
            let m = try await acceptOne(store, withCallback("again"))
            try await store.record(failed(m.id, reason: "Bad Request: chat not found", at: at(1)))
            _ = try await store.replay(ids: [m.id], now: at(2))
            try await store.record(delivered(m.id, at: at(3)))
            let owed = try await store.callbacks(messageID: m.id)
            #expect(owed.map(\.event) == [.failed, .delivered])
            #expect(owed.map(\.lastError) == ["Bad Request: chat not found", nil])
        }
    }
}
