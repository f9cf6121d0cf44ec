import Foundation
import Testing
import TGRelayCore

/// The alert rules on a controlled clock: each alert raised once when its rule starts to hold and resolved
/// once when it stops, whatever happens between evaluations.
@Suite struct AlertEvaluatorTests {
    static let api = "https://api.telegram.org"

    func raised(_ transitions: [AlertTransition]) -> [AlertKey] {
        transitions.compactMap { if case .raised(let alert) = $0 { alert.key } else { nil } }
    }

    func resolved(_ transitions: [AlertTransition]) -> [AlertKey] {
        transitions.compactMap { if case .resolved(let alert, _) = $0 { alert.key } else { nil } }
    }

    @Test func theDefaultsAreTheFieldsUsualOnes() {
        let thresholds = AlertThresholds()
        #expect(thresholds.queueDepth == 1000)
        #expect(thresholds.deadLettersPerHour == 10)
        #expect(thresholds.circuitOpenSeconds == 60)
    }

    @Test func nothingHoldsOnAQuietBot() {
        var evaluator = AlertEvaluator()
        for second in 0..<100 {
            #expect(evaluator.evaluate([BotObservation(bot: "a", queueDepth: 5, deadLetters: 3)], now: at(Double(second))).isEmpty)
        }
        #expect(evaluator.activeAlerts.isEmpty)
    }

    @Test func queueDepthIsRaisedOnceAboveTheThresholdAndResolvedOnceBelowNinetyPercent() {
        var evaluator = AlertEvaluator()
        let key = AlertKey(kind: .queueDepth, bot: "a")
        #expect(evaluator.evaluate([BotObservation(bot: "a", queueDepth: 1000)], now: at(0)).isEmpty, "at the threshold: not above")
        let first = evaluator.evaluate([BotObservation(bot: "a", queueDepth: 1001)], now: at(1))
        #expect(first == [.raised(Alert(key: key, since: at(1), detail: "1001 messages waiting"))])
        // Still above, or back between 90 % and 100 %: it holds, nothing new is announced.
        for (second, depth) in [(2, 5000), (3, 1000), (4, 901), (5, 1200)] {
            #expect(evaluator.evaluate([BotObservation(bot: "a", queueDepth: depth)], now: at(Double(second))).isEmpty)
        }
        #expect(evaluator.activeAlerts.map(\.key) == [key])
        let last = evaluator.evaluate([BotObservation(bot: "a", queueDepth: 900)], now: at(6))
        #expect(last == [.resolved(Alert(key: key, since: at(1), detail: "1001 messages waiting"), at: at(6))])
        #expect(evaluator.evaluate([BotObservation(bot: "a", queueDepth: 0)], now: at(7)).isEmpty)
        #expect(evaluator.activeAlerts.isEmpty)
    }

    @Test func thresholdsAreConfigurable() {
        var evaluator = AlertEvaluator(thresholds: AlertThresholds(queueDepth: 20, deadLettersPerHour: 2, circuitOpenSeconds: 5))
        let transitions = evaluator.evaluate(
            [BotObservation(bot: "a", queueDepth: 21, deadLetters: 0, openCircuits: [Self.api: at(0)])], now: at(0))
        #expect(raised(transitions) == [AlertKey(kind: .queueDepth, bot: "a")])
        #expect(raised(evaluator.evaluate([BotObservation(bot: "a", queueDepth: 21, deadLetters: 3, openCircuits: [Self.api: at(0)])], now: at(5.5)))
            == [AlertKey(kind: .deadLetters, bot: "a"), AlertKey(kind: .circuitOpen, bot: "a", endpoint: Self.api)])
    }

    @Test func deadLettersAreCountedOverTheLastHourNotSinceStart() {
        var evaluator = AlertEvaluator()
        let key = AlertKey(kind: .deadLetters, bot: "a")
        // 500 dead letters from before the relay started do not count.
        #expect(evaluator.evaluate([BotObservation(bot: "a", deadLetters: 500)], now: at(0)).isEmpty)
        #expect(evaluator.evaluate([BotObservation(bot: "a", deadLetters: 510)], now: at(600)).isEmpty, "10 is not more than 10")
        let transitions = evaluator.evaluate([BotObservation(bot: "a", deadLetters: 511)], now: at(1200))
        #expect(transitions == [.raised(Alert(key: key, since: at(1200), detail: "11 dead letters in the last hour"))])
        // No new ones: still 11 within the hour up to 3599 s; at 4200 s the hour starts at 600 s (510 then).
        #expect(evaluator.evaluate([BotObservation(bot: "a", deadLetters: 511)], now: at(3599)).isEmpty)
        #expect(resolved(evaluator.evaluate([BotObservation(bot: "a", deadLetters: 511)], now: at(4200))) == [key])
    }

    @Test func replayedDeadLettersLowerTheGrowth() {
        var evaluator = AlertEvaluator()
        _ = evaluator.evaluate([BotObservation(bot: "a", deadLetters: 0)], now: at(0))
        #expect(raised(evaluator.evaluate([BotObservation(bot: "a", deadLetters: 30)], now: at(60))) == [AlertKey(kind: .deadLetters, bot: "a")])
        #expect(resolved(evaluator.evaluate([BotObservation(bot: "a", deadLetters: 5)], now: at(120))) == [AlertKey(kind: .deadLetters, bot: "a")])
    }

    @Test func aCircuitIsAlertedOnlyAfterSixtySecondsOpenAndResolvedWhenItCloses() {
        var evaluator = AlertEvaluator()
        let key = AlertKey(kind: .circuitOpen, bot: "a", endpoint: Self.api)
        let open = BotObservation(bot: "a", openCircuits: [Self.api: at(0)])
        for second in stride(from: 0.0, through: 60, by: 5) {
            #expect(evaluator.evaluate([open], now: at(second)).isEmpty, "open \(second) s")
        }
        #expect(raised(evaluator.evaluate([open], now: at(60.5))) == [key])
        #expect(evaluator.evaluate([open], now: at(120)).isEmpty)
        #expect(evaluator.activeAlerts.first?.detail.hasPrefix("circuit open since ") == true)
        #expect(resolved(evaluator.evaluate([BotObservation(bot: "a")], now: at(121))) == [key])
        #expect(evaluator.evaluate([BotObservation(bot: "a")], now: at(122)).isEmpty)
    }

    @Test func aShortOutageRaisesNothing() {
        var evaluator = AlertEvaluator()
        #expect(evaluator.evaluate([BotObservation(bot: "a", openCircuits: [Self.api: at(0)])], now: at(30)).isEmpty)
        #expect(evaluator.evaluate([BotObservation(bot: "a")], now: at(31)).isEmpty)
        #expect(evaluator.evaluate([BotObservation(bot: "a", openCircuits: [Self.api: at(100)])], now: at(150)).isEmpty, "a new outage counts from its own start")
    }

    @Test func circuitsOfEndpointsAreSeparateAlerts() {
        var evaluator = AlertEvaluator()
        let mirror = "http://127.0.0.1:8081"
        let both = BotObservation(bot: "a", openCircuits: [Self.api: at(0), mirror: at(30)])
        #expect(raised(evaluator.evaluate([both], now: at(61))) == [AlertKey(kind: .circuitOpen, bot: "a", endpoint: Self.api)])
        #expect(raised(evaluator.evaluate([both], now: at(91))) == [AlertKey(kind: .circuitOpen, bot: "a", endpoint: mirror)])
        let transitions = evaluator.evaluate([BotObservation(bot: "a", openCircuits: [mirror: at(30)])], now: at(92))
        #expect(resolved(transitions) == [AlertKey(kind: .circuitOpen, bot: "a", endpoint: Self.api)])
        #expect(evaluator.activeAlerts.map(\.key) == [AlertKey(kind: .circuitOpen, bot: "a", endpoint: mirror)])
    }

    @Test func aRevokedTokenAndAPollingConflictFollowTheirCondition() {
        var evaluator = AlertEvaluator()
        let refused = BotObservation(bot: "a", tokenRefused: "Unauthorized", pollingConflict: "Conflict: terminated by other getUpdates request")
        let transitions = evaluator.evaluate([refused], now: at(0))
        #expect(transitions == [
            .raised(Alert(key: AlertKey(kind: .tokenRevoked, bot: "a"), since: at(0), detail: "Unauthorized")),
            .raised(Alert(key: AlertKey(kind: .pollingConflict, bot: "a"), since: at(0), detail: "Conflict: terminated by other getUpdates request")),
        ])
        #expect(evaluator.evaluate([refused], now: at(1)).isEmpty)
        var polling = refused
        polling.tokenRefused = nil
        #expect(resolved(evaluator.evaluate([polling], now: at(2))) == [AlertKey(kind: .tokenRevoked, bot: "a")])
        #expect(resolved(evaluator.evaluate([BotObservation(bot: "a")], now: at(3))) == [AlertKey(kind: .pollingConflict, bot: "a")])
    }

    @Test func botsAreIndependentAndAnUnobservedBotKeepsItsAlerts() {
        var evaluator = AlertEvaluator()
        _ = evaluator.evaluate([BotObservation(bot: "a", queueDepth: 2000), BotObservation(bot: "b", queueDepth: 2000)], now: at(0))
        #expect(evaluator.activeAlerts.map(\.key.bot) == ["a", "b"])
        #expect(resolved(evaluator.evaluate([BotObservation(bot: "b")], now: at(1))) == [AlertKey(kind: .queueDepth, bot: "b")])
        #expect(evaluator.activeAlerts.map(\.key) == [AlertKey(kind: .queueDepth, bot: "a")])
    }

    @Test func anAlertThatResolvesMayBeRaisedAgainAsANewOccurrence() {
        var evaluator = AlertEvaluator()
        let key = AlertKey(kind: .tokenRevoked, bot: "a")
        #expect(raised(evaluator.evaluate([BotObservation(bot: "a", tokenRefused: "Unauthorized")], now: at(0))) == [key])
        #expect(resolved(evaluator.evaluate([BotObservation(bot: "a")], now: at(10))) == [key])
        let again = evaluator.evaluate([BotObservation(bot: "a", tokenRefused: "Unauthorized")], now: at(20))
        #expect(again == [.raised(Alert(key: key, since: at(20), detail: "Unauthorized"))])
    }
}
