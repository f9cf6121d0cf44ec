import Foundation

extension DeliveryDecision {
    /// What to do with a lane's head message when its turn comes.
    public enum PreSend: Sendable, Equatable {
        case send
        /// Not yet: retry backoff or retry_after still running.
        case wait(until: Date)
        /// The deadline passed: a late OTP is worse than none, so it is never sent.
        case expire(reason: String)
        /// The chat is inactive (403 earlier): fail without asking Telegram again.
        case failFast(reason: String)
    }

    /// The deadline is checked first (an expired message reads as expired whatever else is true),
    /// then the chat, then the message's own wait.
    public static func beforeSend(message: OutboundMessage, now: Date, chatInactiveReason: String?) -> PreSend {
        if let deadline = message.deadline, now >= deadline {
            return .expire(reason: FailureReason.deadlinePassed)
        }
        if let chatInactiveReason {
            return .failFast(reason: chatInactiveReason)
        }
        if let notBefore = message.notBefore, notBefore > now {
            return .wait(until: notBefore)
        }
        return .send
    }
}
