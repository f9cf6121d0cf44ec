import Foundation
import Testing
import TGRelayCore

/// Every row of DESIGN.md "Classification of a Bot API answer".
@Suite struct DeliveryDecisionTests {
    let now = at(100)

    func decide(_ message: OutboundMessage, _ answer: TelegramAnswer, policy: RetryPolicy = .default) -> DeliveryDecision.Decision {
        var random = FixedRandom.middle
        return DeliveryDecision.decide(message: message, classification: answer, now: now, policy: policy, random: &random)
    }

    // MARK: delivered

    @Test func deliveredKeepsResultAndIDs() {
        let decision = decide(makeMessage(attempts: 1), .delivered(result: #"{"message_id":9}"#, messageIDs: [9]))
        #expect(decision == .init(
            newStatus: .delivered, countsAsAttempt: true, lastError: nil, ambiguous: false,
            result: #"{"message_id":9}"#, messageIDs: [9]))
    }

    @Test func deliveredAfterAnAmbiguousAttemptStaysFlagged() {
        let message = makeMessage(attempts: 1, lastError: "timeout after the request was sent", ambiguous: true)
        let decision = decide(message, .delivered(result: "true", messageIDs: []))
        #expect(decision.newStatus == .delivered)
        #expect(decision.ambiguous)
        #expect(decision.lastError == "timeout after the request was sent")
    }

    // MARK: 429

    @Test func rateLimitedWaitsExactlyRetryAfterUncounted() {
        let decision = decide(makeMessage(attempts: 2), .rateLimited(retryAfter: 17))
        #expect(decision == .init(
            newStatus: .waiting, countsAsAttempt: false, notBefore: at(117),
            lastError: "Too Many Requests: retry after 17", ambiguous: false, effect: .pauseLane(until: at(117))))
    }

    @Test func rateLimitedWithAttemptsUsedUpStillWaits() {
        let decision = decide(makeMessage(attempts: 4), .rateLimited(retryAfter: 3))
        #expect(decision.newStatus == .waiting)
        #expect(!decision.countsAsAttempt)
    }

    @Test func retryAfterBeyondTheDeadlineExpires() {
        let decision = decide(makeMessage(deadline: at(110)), .rateLimited(retryAfter: 35000))
        #expect(decision == .init(
            newStatus: .expired, countsAsAttempt: false, notBefore: nil, lastError: "retry_after beyond deadline",
            ambiguous: false, effect: .pauseLane(until: at(35100))))
        // Ending exactly at the deadline is too late as well: the send would be late.
        #expect(decide(makeMessage(deadline: at(110)), .rateLimited(retryAfter: 10)).newStatus == .expired)
        #expect(decide(makeMessage(deadline: at(110)), .rateLimited(retryAfter: 9)).newStatus == .waiting)
    }

    // MARK: migration

    @Test func migrationRetargetsAndSendsAgainAtOnce() {
        let decision = decide(makeMessage(chat: "-123", attempts: 1), .migrated(toChat: "-1001234567890"))
        #expect(decision == .init(
            newStatus: .waiting, countsAsAttempt: false, notBefore: now, lastError: nil, ambiguous: false,
            effect: .migrateLane(to: "-1001234567890")))
        let updated = decision.applied(to: makeMessage(chat: "-123", attempts: 1), now: now)
        #expect(updated.chat == "-1001234567890")
        #expect(updated.attempts == 1)
        #expect(updated.lane == LaneKey(bot: "bot1", chat: "-1001234567890"))
    }

    @Test func migrationAfterTheDeadlineStillRemembersTheMapping() {
        let decision = decide(makeMessage(chat: "-123", deadline: at(50)), .migrated(toChat: "-100999"))
        #expect(decision.newStatus == .expired)
        #expect(decision.lastError == "deadline passed")
        #expect(decision.effect == .migrateLane(to: "-100999"))
    }

    @Test func migrationToTheSameChatIsALoopAndFails() {
        let decision = decide(makeMessage(chat: "-100999"), .migrated(toChat: "-100999"))
        #expect(decision.newStatus == .failed)
        #expect(decision.countsAsAttempt)
        #expect(decision.lastError == FailureReason.migrationLoop)
        #expect(decision.effect == .none)
    }

    // MARK: 403, 401, other 4xx

    @Test func forbiddenFailsAndMarksTheChatInactive() {
        let decision = decide(makeMessage(), .chatInactive("Forbidden: bot was blocked by the user"))
        #expect(decision == .init(
            newStatus: .failed, countsAsAttempt: true, lastError: "Forbidden: bot was blocked by the user",
            ambiguous: false, effect: .markChatInactive(reason: "Forbidden: bot was blocked by the user")))
    }

    @Test func unauthorizedPausesTheBotAndTheMessageKeepsWaiting() {
        let decision = decide(makeMessage(attempts: 4), .unauthorized("Unauthorized"))
        #expect(decision == .init(
            newStatus: .waiting, countsAsAttempt: false, notBefore: at(160), lastError: "Unauthorized",
            ambiguous: false, effect: .pauseBot(reason: .unauthorized("Unauthorized"), until: at(160))))
    }

    @Test func unauthorizedAfterTheDeadlineExpires() {
        let decision = decide(makeMessage(deadline: at(100)), .unauthorized("Unauthorized"))
        #expect(decision.newStatus == .expired)
        #expect(decision.lastError == "deadline passed")
        #expect(decision.effect == .pauseBot(reason: .unauthorized("Unauthorized"), until: at(160)))
    }

    @Test(arguments: [
        (400, "Bad Request: chat not found"), (400, "Bad Request: message is too long"),
        (400, "Bad Request: message text is empty"), (400, "Bad Request: can't parse entities: x"),
        (409, "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"),
        (404, "Not Found"),
    ])
    func otherClientErrorsFailWithTelegramsDescription(_ code: Int, _ description: String) {
        let decision = decide(makeMessage(), .rejected(errorCode: code, description: description))
        #expect(decision == .init(newStatus: .failed, countsAsAttempt: true, lastError: description, ambiguous: false))
    }

    // MARK: transient

    @Test func transientBacksOffFromOneSecondDoubling() {
        // With the jitter pinned to its middle the delays are the nominal ones.
        let expected: [TimeInterval] = [1, 2, 4, 8]
        for (attempts, delay) in zip(0..., expected) {
            let decision = decide(makeMessage(attempts: attempts), .transient("Internal Server Error: restart"))
            #expect(decision.newStatus == .waiting)
            #expect(decision.countsAsAttempt)
            #expect(abs(decision.notBefore!.timeIntervalSince(now) - delay) < 1e-6)
            #expect(decision.lastError == "Internal Server Error: restart")
            #expect(decision.effect == .none)
        }
    }

    @Test func theFifthTransientFailureIsADeadLetter() {
        let decision = decide(makeMessage(attempts: 4), .transient("HTTP 502: answer is not a Bot API JSON envelope"))
        #expect(decision == .init(
            newStatus: .failed, countsAsAttempt: true,
            lastError: "attempts exhausted: HTTP 502: answer is not a Bot API JSON envelope", ambiguous: false))
    }

    @Test func attemptLimitIsConfigurable() {
        let decision = decide(makeMessage(attempts: 1), .transient("x"), policy: RetryPolicy(maximumAttempts: 2))
        #expect(decision.newStatus == .failed)
        #expect(decision.lastError == "attempts exhausted: x")
    }

    @Test func aRetryThatWouldBeLateExpires() {
        let decision = decide(makeMessage(attempts: 2, deadline: at(103)), .transient("connection refused"))
        #expect(decision == .init(
            newStatus: .expired, countsAsAttempt: true, lastError: "retry beyond deadline: connection refused",
            ambiguous: false))
        let late = decide(makeMessage(deadline: at(90)), .transient("connection refused"))
        #expect(late.newStatus == .expired)
        #expect(late.lastError == "deadline passed")
        #expect(decide(makeMessage(attempts: 2, deadline: at(105)), .transient("x")).newStatus == .waiting)
    }

    @Test func jitterComesFromTheInjectedSource() {
        var low = FixedRandom.lowest
        var high = FixedRandom.highest
        let early = DeliveryDecision.decide(message: makeMessage(attempts: 3), classification: .transient("x"),
                                            now: now, policy: .default, random: &low)
        let lateDecision = DeliveryDecision.decide(message: makeMessage(attempts: 3), classification: .transient("x"),
                                                   now: now, policy: .default, random: &high)
        #expect(abs(early.notBefore!.timeIntervalSince(now) - 6.4) < 1e-5)
        #expect(abs(lateDecision.notBefore!.timeIntervalSince(now) - 9.6) < 1e-5)
    }

    // MARK: ambiguous

    @Test func ambiguousIsRetriedAndFlagged() {
        let decision = decide(makeMessage(attempts: 1), .ambiguous("timeout after the request was sent"))
        #expect(decision.newStatus == .waiting)
        #expect(decision.countsAsAttempt)
        #expect(decision.ambiguous)
        #expect(abs(decision.notBefore!.timeIntervalSince(now) - 2) < 1e-6)
        #expect(decision.lastError == "timeout after the request was sent")
    }

    @Test func ambiguousAtMostOnceIsOutcomeUnknown() {
        let decision = decide(makeMessage(atMostOnce: true), .ambiguous("connection dropped before the answer was complete"))
        #expect(decision == .init(newStatus: .failed, countsAsAttempt: true, lastError: "outcome_unknown", ambiguous: true))
    }

    @Test func ambiguousExhaustedIsADeadLetterStillFlagged() {
        let decision = decide(makeMessage(attempts: 4), .ambiguous("timeout after the request was sent"))
        #expect(decision.newStatus == .failed)
        #expect(decision.ambiguous)
        #expect(decision.lastError == "attempts exhausted: timeout after the request was sent")
    }

    @Test func atMostOnceDoesNotChangeTransientHandling() {
        let decision = decide(makeMessage(atMostOnce: true), .transient("connection refused"))
        #expect(decision.newStatus == .waiting)
        #expect(!decision.ambiguous)
    }

    @Test func theFlagOnceSetIsNeverCleared() {
        let decision = decide(makeMessage(attempts: 1, ambiguous: true), .transient("connection refused"))
        #expect(decision.ambiguous)
    }

    // MARK: applying

    @Test func applyingUpdatesTheStoredMessage() {
        let message = makeMessage(attempts: 1)
        let delivered = decide(message, .delivered(result: #"{"message_id":5}"#, messageIDs: [5])).applied(to: message, now: now)
        #expect(delivered.status == .delivered)
        #expect(delivered.attempts == 2)
        #expect(delivered.result == #"{"message_id":5}"#)
        #expect(delivered.telegramMessageIDs == [5])
        #expect(delivered.updatedAt == now)
        #expect(delivered.notBefore == nil)

        let waiting = decide(message, .rateLimited(retryAfter: 4)).applied(to: message, now: now)
        #expect(waiting.status == .waiting)
        #expect(waiting.attempts == 1)
        #expect(waiting.notBefore == at(104))
        #expect(waiting.result == nil)
    }
}
