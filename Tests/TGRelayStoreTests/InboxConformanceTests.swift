import Foundation
import TGRelayCore
import Testing
import TGRelayStore

func update(_ id: Int64, chat: Int64? = 100, type: String = "message", reactivates: Bool = false) -> InboundUpdate {
    let content = chat.map { #"{"chat":{"id":\#($0)},"text":"u\#(id)"}"# } ?? #"{"query":"q\#(id)"}"#
    return InboundUpdate(
        updateID: id, type: type, chat: chat.map(String.init), reactivatesChat: reactivates,
        json: #"{"\#(type)":\#(content),"update_id":\#(id)}"#)
}

@Suite("Conformance: inbox")
struct InboxConformanceTests {
    @Test(arguments: Driver.allCases)
    func storesOnceByBotAndUpdateID(driver: Driver) async throws {
        try await withStore(driver) { store, _ in
            #expect(try await store.storeUpdates(bot: "bot1", [update(10), update(11)], now: at(1)).map(\.updateID) == [10, 11])
            // A re-delivery (webhook retry, a poll answered twice) stores nothing, also within one call.
            #expect(try await store.storeUpdates(bot: "bot1", [update(11), update(12), update(12)], now: at(2)).map(\.updateID) == [12])
            // The same id of another bot is another update.
            #expect(try await store.storeUpdates(bot: "bot2", [update(10)], now: at(2)).map(\.updateID) == [10])
            let pending = try await store.pendingUpdates(bot: "bot1", from: 0, types: nil, limit: 100)
            #expect(pending.map(\.updateID) == [10, 11, 12])
            #expect(pending[0].json == update(10).json)
            #expect(pending[0].chat == "100")
            #expect(pending[0].type == "message")
            #expect(pending[0].receivedAt == at(1))
            #expect(pending[2].receivedAt == at(2))
            #expect(try await store.inboxSettings(bot: "bot1").lastUpdateID == 12)
            #expect(try await store.inboxSettings(bot: "bot3") == InboxSettings())
        }
    }

    /// TELEGRAM.md: after a week without updates Telegram's ids may start again from a random value.
    @Test(arguments: Driver.allCases)
    func idsRestartedByTelegramAfterAQuietSpellContinueAboveTheStoredOnes(driver: Driver) async throws {
        let harness = try driver.makeHarness()
        defer { harness.remove() }
        let store = try await harness.open()
        _ = try await store.storeUpdates(bot: "bot1", [update(700), update(701)], now: at(0))
        _ = try await store.confirmUpdates(bot: "bot1", below: 702, now: at(1))
        let week: TimeInterval = 7 * 24 * 3600
        // A consumer that confirmed 701 sees the new updates as 702, 703: above its offset, in order.
        let stored = try await store.storeUpdates(bot: "bot1", [update(3), update(4)], now: at(week))
        #expect(stored.map(\.updateID) == [702, 703])
        #expect(stored.first?.json == #"{"message":{"chat":{"id":100},"text":"u3"},"update_id":702}"#)
        try await store.close()
        let reopened = try await harness.open()
        // Telegram sending them again (before the offset confirmed them) stores nothing; the next is 704.
        #expect(try await reopened.storeUpdates(bot: "bot1", [update(3), update(4), update(5)], now: at(week + 60)).map(\.updateID) == [704])
        let pending = try await reopened.pendingUpdates(bot: "bot1", from: 702, types: nil, limit: 10)
        #expect(pending.map(\.updateID) == [702, 703, 704])
        #expect(pending.map(\.json).allSatisfy { $0.contains(#""text":"u"#) })
        #expect(try await reopened.inboxSettings(bot: "bot1").lastUpdateID == 704)
        try await reopened.close()
    }

    @Test(arguments: Driver.allCases)
    func lastUpdateIDOnlyGrowsAndSurvivesReopen(driver: Driver) async throws {
        let harness = try driver.makeHarness()
        defer { harness.remove() }
        let store = try await harness.open()
        _ = try await store.storeUpdates(bot: "bot1", [update(20), update(21)], now: at(1))
        // An older id arriving late (webhooks are concurrent) is stored but does not move the offset back.
        #expect(try await store.storeUpdates(bot: "bot1", [update(5)], now: at(2)).map(\.updateID) == [5])
        try await store.close()
        let reopened = try await harness.open()
        #expect(try await reopened.inboxSettings(bot: "bot1").lastUpdateID == 21)
        #expect(try await reopened.pendingUpdates(bot: "bot1", from: 0, types: nil, limit: 10).map(\.updateID) == [5, 20, 21])
        try await reopened.close()
    }

    @Test(arguments: Driver.allCases)
    func offsetConfirmsEverythingBelowIt(driver: Driver) async throws {
        try await withStore(driver) { store, _ in
            _ = try await store.storeUpdates(bot: "bot1", (1...5).map { update($0) }, now: at(1))
            _ = try await store.storeUpdates(bot: "bot2", [update(1)], now: at(1))
            #expect(try await store.confirmUpdates(bot: "bot1", below: 4, now: at(2)) == 3)
            #expect(try await store.confirmUpdates(bot: "bot1", below: 4, now: at(3)) == 0)
            #expect(try await store.pendingUpdates(bot: "bot1", from: 0, types: nil, limit: 10).map(\.updateID) == [4, 5])
            #expect(try await store.pendingUpdates(bot: "bot1", from: 5, types: nil, limit: 10).map(\.updateID) == [5])
            #expect(try await store.pendingUpdates(bot: "bot1", from: 0, types: nil, limit: 1).map(\.updateID) == [4])
            #expect(try await store.pendingUpdates(bot: "bot2", from: 0, types: nil, limit: 10).map(\.updateID) == [1])
            // Confirmed updates are kept (deduplication) until retention removes them.
            #expect(try await store.storedUpdate(bot: "bot1", updateID: 1)?.state == .done)
            #expect(try await store.storeUpdates(bot: "bot1", [update(1)], now: at(4)).isEmpty)
        }
    }

    @Test(arguments: Driver.allCases)
    func typesFilterPendingUpdates(driver: Driver) async throws {
        try await withStore(driver) { store, _ in
            _ = try await store.storeUpdates(
                bot: "bot1", [update(1), update(2, type: "callback_query"), update(3, chat: nil, type: "inline_query")], now: at(1))
            let some = try await store.pendingUpdates(bot: "bot1", from: 0, types: ["message", "inline_query"], limit: 10)
            #expect(some.map(\.updateID) == [1, 3])
            #expect(some[1].chat == nil)
        }
    }

    /// The app's getUpdates `allowed_updates` stays until given again, also across a restart; an empty
    /// list is Telegram's default (nil). Setting it leaves the push target and the offset alone.
    @Test(arguments: Driver.allCases)
    func consumerAllowedUpdatesAreStickyAcrossReopen(driver: Driver) async throws {
        let harness = try driver.makeHarness()
        defer { harness.remove() }
        let store = try await harness.open()
        _ = try await store.storeUpdates(bot: "bot1", [update(7)], now: at(1))
        try await store.setConsumerAllowedUpdates(bot: "bot1", ["message", "chat_member"])
        try await store.setConsumerAllowedUpdates(bot: "bot2", ["callback_query"])
        try await store.close()
        let reopened = try await harness.open()
        let settings = try await reopened.inboxSettings(bot: "bot1")
        #expect(settings.consumerAllowedUpdates == ["message", "chat_member"])
        #expect(settings.lastUpdateID == 7)
        #expect(settings.push == nil)
        try await reopened.setConsumerAllowedUpdates(bot: "bot1", [])
        #expect(try await reopened.inboxSettings(bot: "bot1").consumerAllowedUpdates == nil)
        #expect(try await reopened.inboxSettings(bot: "bot2").consumerAllowedUpdates == ["callback_query"])
        try await reopened.close()
    }

    @Test(arguments: Driver.allCases)
    func webhookModeAndPushTargetAreKept(driver: Driver) async throws {
        try await withStore(driver) { store, _ in
            try await store.setInboundMode(bot: "bot1", .webhook(secret: "s3cr3t_-X"))
            let target = PushTarget(
                url: "http://127.0.0.1:9/app", secretToken: "tok", allowedUpdates: ["message", "callback_query"], maxConnections: 5)
            try await store.setPushTarget(bot: "bot1", target, dropPending: false, now: at(1))
            var settings = try await store.inboxSettings(bot: "bot1")
            #expect(settings.mode == .webhook(secret: "s3cr3t_-X"))
            #expect(settings.push == target)
            try await store.setInboundMode(bot: "bot1", .polling)
            try await store.setPushTarget(bot: "bot1", nil, dropPending: false, now: at(2))
            settings = try await store.inboxSettings(bot: "bot1")
            #expect(settings == InboxSettings())
        }
    }

    @Test(arguments: Driver.allCases)
    func pushesGoOutOneAtATimePerChatInOrder(driver: Driver) async throws {
        try await withStore(driver) { store, _ in
            _ = try await store.storeUpdates(bot: "bot1", [update(1, chat: 7), update(2, chat: 8), update(3, chat: 7)], now: at(0))
            // No push target: nothing is pushed, the updates wait for getUpdates.
            #expect(try await store.duePushes(now: at(10), limit: 10).isEmpty)
            try await store.setPushTarget(bot: "bot1", PushTarget(url: "http://127.0.0.1:9/app"), dropPending: false, now: at(1))
            #expect(try await store.duePushes(now: at(1), limit: 10).map(\.updateID) == [1, 2])
            #expect(try await store.duePushes(now: at(1), limit: 10).first?.pushOwedSince == at(1))

            try await store.recordPushAttempt(bot: "bot1", updateID: 1, at: at(1), outcome: .retry(at: at(5), error: "HTTP 503"))
            try await store.recordPushAttempt(bot: "bot1", updateID: 2, at: at(1), outcome: .delivered)
            // Chat 7 waits for its head; chat 8 is done.
            #expect(try await store.duePushes(now: at(2), limit: 10).isEmpty)
            let retried = try #require(try await store.duePushes(now: at(5), limit: 10).first)
            #expect(retried.updateID == 1)
            #expect(retried.pushTries == 1)
            #expect(retried.lastPushError == "HTTP 503")
            try await store.recordPushAttempt(bot: "bot1", updateID: 1, at: at(5), outcome: .delivered)
            #expect(try await store.duePushes(now: at(5), limit: 10).map(\.updateID) == [3])
            // Updates stored while the target is set are owed at once.
            _ = try await store.storeUpdates(bot: "bot1", [update(4, chat: 9)], now: at(6))
            #expect(try await store.duePushes(now: at(6), limit: 10).map(\.updateID) == [3, 4])
            #expect(try await store.inboxCounts().first?.unconfirmed == 2)
        }
    }

    /// A node reads past the bots other nodes serve, so their older backlog cannot hide its own.
    @Test(arguments: Driver.allCases)
    func duePushesLeaveOutBotsServedElsewhere(driver: Driver) async throws {
        try await withStore(driver) { store, _ in
            _ = try await store.storeUpdates(bot: "bot1", [update(1, chat: 7), update(2, chat: 8)], now: at(0))
            _ = try await store.storeUpdates(bot: "bot2", [update(1, chat: 7)], now: at(0))
            for bot in ["bot1", "bot2"] {
                try await store.setPushTarget(bot: bot, PushTarget(url: "http://127.0.0.1:9/\(bot)"), dropPending: false, now: at(1))
            }
            let others = try await store.duePushes(now: at(1), limit: 1, excludingBots: ["bot1"])
            #expect(others.map { "\($0.bot)/\($0.updateID)" } == ["bot2/1"])
            let mine = try await store.duePushes(now: at(1), limit: 10, excludingBots: ["bot2"])
            #expect(mine.map { "\($0.bot)/\($0.updateID)" } == ["bot1/1", "bot1/2"])
            #expect(try await store.duePushes(now: at(1), limit: 10, excludingBots: ["bot1", "bot2"]).isEmpty)
            #expect(try await store.duePushes(now: at(1), limit: 10).count == 3)
        }
    }

    @Test(arguments: Driver.allCases)
    func givenUpPushesAreDeadLettersAndReplayable(driver: Driver) async throws {
        try await withStore(driver) { store, _ in
            try await store.setPushTarget(bot: "bot1", PushTarget(url: "http://127.0.0.1:9/app"), dropPending: false, now: at(0))
            _ = try await store.storeUpdates(bot: "bot1", [update(1, chat: 7), update(2, chat: 7), update(3, chat: 8)], now: at(0))
            try await store.recordPushAttempt(bot: "bot1", updateID: 1, at: at(1), outcome: .gaveUp(error: "HTTP 500"))
            try await store.recordPushAttempt(bot: "bot1", updateID: 3, at: at(2), outcome: .gaveUp(error: "refused"))
            // A settled push stays settled even if a late outcome arrives.
            try await store.recordPushAttempt(bot: "bot1", updateID: 1, at: at(3), outcome: .delivered)
            #expect(try await store.failedPushes(bot: "bot1", limit: 10).map(\.updateID) == [3, 1])
            #expect(try await store.failedPushes(bot: nil, limit: 1).map(\.lastPushError) == ["refused"])
            #expect(try await store.duePushes(now: at(3), limit: 10).map(\.updateID) == [2])
            #expect(try await store.inboxCounts().first?.pushFailed == 2)

            #expect(try await store.replayPushes(bot: "bot1", updateIDs: [1, 2, 99], now: at(4)) == [1])
            // The replayed update is again the head of its chat, with a fresh budget.
            let replayed = try #require(try await store.duePushes(now: at(4), limit: 10).first)
            #expect(replayed.updateID == 1)
            #expect(replayed.pushTries == 0)
            #expect(replayed.pushOwedSince == at(4))
            #expect(try await store.replayPushes(bot: "bot1", updateIDs: nil, now: at(5)) == [3])
            #expect(try await store.failedPushes(bot: nil, limit: 10).isEmpty)
        }
    }

    @Test(arguments: Driver.allCases)
    func pushTargetFiltersTypesAndCanDropPending(driver: Driver) async throws {
        try await withStore(driver) { store, _ in
            _ = try await store.storeUpdates(bot: "bot1", [update(1), update(2, type: "callback_query")], now: at(0))
            try await store.setPushTarget(
                bot: "bot1", PushTarget(url: "http://127.0.0.1:9/app", allowedUpdates: ["message"]), dropPending: false, now: at(1))
            _ = try await store.storeUpdates(bot: "bot1", [update(3, chat: 5, type: "callback_query"), update(4, chat: 5)], now: at(1))
            #expect(try await store.duePushes(now: at(1), limit: 10).map(\.updateID) == [1, 4])
            try await store.setPushTarget(bot: "bot1", PushTarget(url: "http://127.0.0.1:9/app"), dropPending: true, now: at(2))
            #expect(try await store.duePushes(now: at(2), limit: 10).isEmpty)
            #expect(try await store.pendingUpdates(bot: "bot1", from: 0, types: nil, limit: 10).isEmpty)
        }
    }

    @Test(arguments: Driver.allCases)
    func unblockingUpdateReactivatesTheChat(driver: Driver) async throws {
        try await withStore(driver) { store, _ in
            try await store.setChatInactive(bot: "bot1", chat: "100", reason: "Forbidden: bot was blocked by the user", now: at(0))
            try await store.setChatInactive(bot: "bot1", chat: "200", reason: "Forbidden: bot was blocked by the user", now: at(0))
            _ = try await store.storeUpdates(bot: "bot1", [update(1, chat: 100, type: "my_chat_member", reactivates: true)], now: at(1))
            _ = try await store.storeUpdates(bot: "bot1", [update(2, chat: 200, type: "my_chat_member")], now: at(1))
            #expect(try await store.inactiveReason(bot: "bot1", chat: "100") == nil)
            #expect(try await store.inactiveReason(bot: "bot1", chat: "200") != nil)
        }
    }

    @Test(arguments: Driver.allCases)
    func countsAndRetention(driver: Driver) async throws {
        try await withStore(driver) { store, _ in
            _ = try await store.storeUpdates(bot: "bot1", [update(1), update(2)], now: at(0))
            _ = try await store.storeUpdates(bot: "bot1", [update(3)], now: at(100))
            _ = try await store.storeUpdates(bot: "bot2", [update(7)], now: at(100))
            try await store.confirmUpdates(bot: "bot1", below: 2, now: at(101))
            var counts = try await store.inboxCounts()
            #expect(counts.map(\.bot) == ["bot1", "bot2"])
            #expect(counts[0] == InboxCounts(bot: "bot1", stored: 3, unconfirmed: 2, oldestUnconfirmed: at(0), lastUpdateID: 3))
            #expect(counts[1] == InboxCounts(bot: "bot2", stored: 1, unconfirmed: 1, oldestUnconfirmed: at(100), lastUpdateID: 7))

            #expect(try await store.pruneInbox(before: at(50)) == 2)
            counts = try await store.inboxCounts()
            #expect(counts[0] == InboxCounts(bot: "bot1", stored: 1, unconfirmed: 1, oldestUnconfirmed: at(100), lastUpdateID: 3))
            // The offset is kept after pruning: the poller never goes back.
            #expect(try await store.inboxSettings(bot: "bot1").lastUpdateID == 3)
        }
    }
}
