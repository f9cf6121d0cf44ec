import Foundation
import Testing

@testable import TGRelayCore

struct HeldByOutageTests {
    let now = Date(timeIntervalSince1970: 1_700_000_000)

    func message(attempts: Int, atMostOnce: Bool = false) -> OutboundMessage {
        OutboundMessage(
            id: 1, bot: "b", chat: "42", method: "sendMessage", params: "{}", payloadHash: "h", attempts: attempts,
            atMostOnce: atMostOnce, createdAt: now, updatedAt: now)
    }

    func decide(_ answer: TelegramAnswer, _ message: OutboundMessage) -> DeliveryDecision.Decision {
        var random = SystemRandomNumberGenerator()
        return DeliveryDecision.decide(message: message, classification: answer, now: now, random: &random)
    }

    @Test func theLastAttemptFailingIntoAnOpenCircuitIsNotADeadLetter() {
        let lone = message(attempts: 4)
        let answer = TelegramAnswer.transient("HTTP 502")
        #expect(decide(answer, lone).newStatus == .failed)
        let held = decide(answer, lone).heldByOutage(answer: answer, message: lone)
        #expect(held.newStatus == .waiting)
        #expect(held.countsAsAttempt == false)
        #expect(held.lastError == "HTTP 502")
        #expect(held.notBefore == nil, "it goes as soon as the circuit closes")
    }

    @Test func aBackoffWaitBecomesAWaitForTheCircuit() {
        let first = message(attempts: 0)
        let answer = TelegramAnswer.ambiguous("timeout after the request was sent")
        let held = decide(answer, first).heldByOutage(answer: answer, message: first)
        #expect(held.newStatus == .waiting)
        #expect(held.countsAsAttempt == false)
        #expect(held.ambiguous == true, "the request may still have arrived")
    }

    @Test func otherOutcomesAreUnchanged() {
        let plain = message(attempts: 0)
        for answer in [TelegramAnswer.delivered(result: "true", messageIDs: []), .rateLimited(retryAfter: 3), .rejected(errorCode: 400, description: "Bad Request: x"), .chatInactive("Forbidden: bot was blocked by the user")] {
            #expect(decide(answer, plain).heldByOutage(answer: answer, message: plain) == decide(answer, plain))
        }
        let once = message(attempts: 0, atMostOnce: true)
        let lost = TelegramAnswer.ambiguous("connection closed before the answer")
        #expect(decide(lost, once).heldByOutage(answer: lost, message: once).lastError == FailureReason.outcomeUnknown)
    }
}
