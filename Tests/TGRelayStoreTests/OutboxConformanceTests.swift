import Foundation
import TGRelayCore
import Testing
import TGRelayStore

/// Fallbacks and alerts in the callback outbox: owed at accept, due by time, claimed exactly once.
@Suite("Conformance: fallbacks and alerts")
struct OutboxConformanceTests {
    static let url = "http://127.0.0.1:9/fallback"

    func withFallback(_ text: String, chat: String, due: Date, cancel: Bool = false) -> NewMessage {
        var message = newMessage(text, chat: chat)
        message.fallback = MessageFallback(url: Self.url, due: due, cancelDelivery: cancel)
        return message
    }

    static let body: @Sendable (OutboundMessage, Bool) -> String = { message, cancelled in
        "\(message.id):\(message.status.rawValue):\(cancelled)"
    }

    @Test(arguments: Driver.allCases)
    func aFallbackIsOwedAtAcceptAndDueAtItsTime(driver: Driver) async throws {
        try await withStore(driver) { store, _ in
            let m = try await acceptNew(store, [withFallback("a", chat: "1", due: at(30)), newMessage("plain", chat: "2")])
            #expect(try await store.dueCallbacks(now: at(29.9), limit: 10).isEmpty)
            let due = try await store.dueCallbacks(now: at(30), limit: 10)
            #expect(due.count == 1)
            #expect(due.first?.messageID == m[0].id)
            #expect(due.first?.event == .fallback)
            #expect(due.first?.url == Self.url)
            #expect(due.first?.isUnclaimedFallback == true)
            #expect(due.first?.at == at(30))
            #expect(try await store.callbacks(messageID: m[1].id).isEmpty)
        }
    }

    @Test(arguments: Driver.allCases)
    func aClaimFixesThePayloadOnceAndDeliveryContinues(driver: Driver) async throws {
        try await withStore(driver) { store, _ in
            let m = try await acceptOne(store, withFallback("a", chat: "1", due: at(30)))
            let owed = try #require(try await store.dueCallbacks(now: at(30), limit: 10).first)
            let claimed = try #require(try await store.claimFallback(id: owed.id, now: at(31), payload: Self.body))
            #expect(claimed.payload == "\(m.id):queued:false")
            #expect(!claimed.isUnclaimedFallback)
            #expect(try await store.claimFallback(id: owed.id, now: at(32), payload: Self.body) == nil, "claimed once")
            #expect(try await store.message(id: m.id)?.status == .queued)
            // Still owed until its POST succeeds, and sent with the same body.
            #expect(try await store.dueCallbacks(now: at(32), limit: 10).map(\.payload) == ["\(m.id):queued:false"])
            try await store.recordCallbackAttempt(id: owed.id, at: at(33), outcome: .delivered)
            #expect(try await store.dueCallbacks(now: at(40), limit: 10).isEmpty)
            #expect(try await store.callbacks(messageID: m.id).map(\.state) == [.delivered])
        }
    }

    @Test(arguments: Driver.allCases)
    func aMessageDeliveredCancelledOrExpiredInTimeSkipsItsFallback(driver: Driver) async throws {
        try await withStore(driver) { store, _ in
            let m = try await acceptNew(store, [
                withFallback("d", chat: "1", due: at(30)), withFallback("c", chat: "2", due: at(30)),
                withFallback("e", chat: "3", due: at(30)), withFallback("f", chat: "4", due: at(30)),
            ])
            try await store.record(delivered(m[0].id, at: at(2)))
            _ = try await store.cancel(id: m[1].id, now: at(2))
            #expect(try await store.apply(Transition(messageID: m[2].id, at: at(2), newStatus: .expired, lastError: "deadline_passed")))
            try await store.record(failed(m[3].id, reason: "Bad Request: chat not found", at: at(2)))
            let due = try await store.dueCallbacks(now: at(30), limit: 10).filter { $0.event == .fallback }
            #expect(due.map(\.messageID) == m.map(\.id))
            var claimed: [Int64] = []
            for owed in due {
                if let fallback = try await store.claimFallback(id: owed.id, now: at(30), payload: Self.body) {
                    claimed.append(fallback.messageID)
                }
            }
            #expect(claimed == [m[3].id], "a dead letter is still undelivered: its fallback goes out")
            for message in m.prefix(3) {
                #expect(try await store.callbacks(messageID: message.id).filter { $0.event == .fallback }.map(\.state) == [.skipped])
            }
            #expect(try await store.dueCallbacks(now: at(40), limit: 10).filter { $0.event == .fallback }.map(\.messageID) == [m[3].id])
        }
    }

    @Test(arguments: Driver.allCases)
    func cancelOnFallbackCancelsAWaitingMessageButNotOneInFlight(driver: Driver) async throws {
        try await withStore(driver) { store, _ in
            let m = try await acceptNew(store, [
                withFallback("w", chat: "1", due: at(30), cancel: true), withFallback("s", chat: "2", due: at(30), cancel: true),
            ])
            try await store.record(attempt(m[0].id, at: at(2), status: .waiting, notBefore: at(60), lastError: "timeout"))
            #expect(try await store.markSending(id: m[1].id, now: at(29)))
            let due = try await store.dueCallbacks(now: at(30), limit: 10)
            var payloads: [String] = []
            for owed in due {
                payloads += [try await store.claimFallback(id: owed.id, now: at(30), payload: Self.body)?.payload].compactMap { $0 }
            }
            #expect(payloads == ["\(m[0].id):cancelled:true", "\(m[1].id):sending:false"])
            let cancelled = try #require(try await store.message(id: m[0].id))
            #expect(cancelled.status == .cancelled)
            #expect(cancelled.lastError == "cancelled on fallback")
            #expect(try await store.message(id: m[1].id)?.status == .sending)
        }
    }

    @Test(arguments: Driver.allCases)
    func anAlertIsOwedWithItsExactBody(driver: Driver) async throws {
        try await withStore(driver) { store, _ in
            try await store.enqueueAlert(url: "http://127.0.0.1:9/alerts", event: .alertRaised, bot: "bot1", payload: #"{"a":1}"#, at: at(5))
            try await store.enqueueAlert(url: "http://127.0.0.1:9/alerts", event: .alertResolved, bot: "bot1", payload: #"{"a":2}"#, at: at(6))
            let due = try await store.dueCallbacks(now: at(6), limit: 10)
            #expect(due.map(\.event) == [.alertRaised, .alertResolved])
            #expect(due.map(\.payload) == [#"{"a":1}"#, #"{"a":2}"#])
            #expect(due.map(\.event.eventName) == ["alert.raised", "alert.resolved"])
            #expect(due.allSatisfy { $0.messageID == 0 && $0.bot == "bot1" && $0.state == .pending })
            try await store.recordCallbackAttempt(id: due[0].id, at: at(7), outcome: .delivered)
            #expect(try await store.callbacks(state: .pending, limit: 10).map(\.event) == [.alertResolved])
        }
    }
}
