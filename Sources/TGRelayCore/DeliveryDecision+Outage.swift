import Foundation

extension DeliveryDecision.Decision {
    /// The same decision when the endpoint's circuit is open after this failure: the outage failed,
    /// not the message, so no attempt is consumed and the message waits for the circuit to close
    /// (DESIGN.md "Outages": a message waits as long as its deadline allows, however long the outage).
    ///
    /// Without this a lone message during an outage would spend its attempts before the circuit
    /// opens. Unchanged: answers that are not endpoint failures, expiries, and ambiguous at-most-once
    /// sends (they must not be retried at all).
    public func heldByOutage(answer: TelegramAnswer, message: OutboundMessage) -> Self {
        let description: String
        switch answer {
        case .transient(let text): description = text
        case .ambiguous(let text) where !message.atMostOnce: description = text
        default: return self
        }
        guard newStatus == .waiting || newStatus == .failed else { return self }
        return Self(newStatus: .waiting, countsAsAttempt: false, notBefore: nil, lastError: description, ambiguous: ambiguous)
    }
}
