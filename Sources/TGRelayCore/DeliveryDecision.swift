import Foundation

/// What happens to a message after an attempt (DESIGN.md "Outbound semantics"), as a pure function
/// of the message, Telegram's answer and the time. The dispatcher persists the decision and applies
/// its effect to the lane or the bot.
public enum DeliveryDecision {
    /// What the answer means beyond this one message.
    public enum Effect: Sendable, Equatable {
        case none
        /// 429: nothing more goes to this lane before `until` (feed `RateLimiter.recordRateLimited`).
        case pauseLane(until: Date)
        /// 403: later messages to the chat fail fast with this reason until it is reactivated.
        case markChatInactive(reason: String)
        /// The group became this supergroup: re-target the lane, remember the mapping, send at once.
        case migrateLane(to: String)
        /// The whole bot stops sending until `until`; its messages keep waiting.
        case pauseBot(reason: BotPauseReason, until: Date)
    }

    public enum BotPauseReason: Sendable, Equatable {
        /// 401: the token is revoked; the operator must be alerted.
        case unauthorized(String)
    }

    public struct Decision: Sendable, Equatable {
        /// `.delivered`, `.failed`, `.expired` or `.waiting`.
        public var newStatus: MessageStatus
        /// Whether the attempt is counted against `RetryPolicy.maximumAttempts`.
        public var countsAsAttempt: Bool
        /// When a waiting message may be sent again.
        public var notBefore: Date?
        /// The message's `lastError` after this decision (the dead-letter reason when failed).
        public var lastError: String?
        /// The message's `ambiguous` flag after this decision.
        public var ambiguous: Bool
        public var effect: Effect
        /// Telegram's `result` JSON when delivered.
        public var result: String?
        public var messageIDs: [Int64]

        public init(
            newStatus: MessageStatus, countsAsAttempt: Bool, notBefore: Date? = nil, lastError: String?,
            ambiguous: Bool, effect: Effect = .none, result: String? = nil, messageIDs: [Int64] = []
        ) {
            self.newStatus = newStatus
            self.countsAsAttempt = countsAsAttempt
            self.notBefore = notBefore
            self.lastError = lastError
            self.ambiguous = ambiguous
            self.effect = effect
            self.result = result
            self.messageIDs = messageIDs
        }

        /// The message as the store should keep it after this decision.
        public func applied(to message: OutboundMessage, now: Date) -> OutboundMessage {
            var updated = message
            updated.status = newStatus
            if countsAsAttempt { updated.attempts += 1 }
            updated.notBefore = notBefore
            updated.lastError = lastError
            updated.ambiguous = ambiguous
            updated.updatedAt = now
            if let result {
                updated.result = result
                updated.telegramMessageIDs = messageIDs
            }
            if case .migrateLane(let newChat) = effect { updated.chat = newChat }
            return updated
        }
    }

    public static func decide(
        message: OutboundMessage, classification: TelegramAnswer, now: Date,
        policy: RetryPolicy = .default, random: inout some RandomNumberGenerator
    ) -> Decision {
        let deadlinePassed = message.deadline.map { now >= $0 } ?? false
        switch classification {
        case .delivered(let result, let messageIDs):
            return Decision(
                newStatus: .delivered, countsAsAttempt: true, lastError: message.lastError,
                ambiguous: message.ambiguous, result: result, messageIDs: messageIDs)

        case .rateLimited(let retryAfter):
            // Not the message's fault: not an attempt; the lane waits exactly retry_after.
            let until = now.addingTimeInterval(TimeInterval(retryAfter))
            // A send at the deadline itself would already be late (see `beforeSend`).
            let beyondDeadline = message.deadline.map { until >= $0 } ?? false
            return Decision(
                newStatus: beyondDeadline ? .expired : .waiting, countsAsAttempt: false,
                notBefore: beyondDeadline ? nil : until,
                lastError: beyondDeadline
                    ? FailureReason.retryAfterBeyondDeadline : FailureReason.tooManyRequests(retryAfter: retryAfter),
                ambiguous: message.ambiguous, effect: .pauseLane(until: until))

        case .migrated(let newChat):
            guard newChat != message.chat else {
                return Decision(
                    newStatus: .failed, countsAsAttempt: true, lastError: FailureReason.migrationLoop,
                    ambiguous: message.ambiguous)
            }
            return Decision(
                newStatus: deadlinePassed ? .expired : .waiting, countsAsAttempt: false,
                notBefore: deadlinePassed ? nil : now,
                lastError: deadlinePassed ? FailureReason.deadlinePassed : message.lastError,
                ambiguous: message.ambiguous, effect: .migrateLane(to: newChat))

        case .chatInactive(let description):
            return Decision(
                newStatus: .failed, countsAsAttempt: true, lastError: description, ambiguous: message.ambiguous,
                effect: .markChatInactive(reason: description))

        case .unauthorized(let description):
            // The bot's fault, not the message's: it keeps waiting, uncounted, for a new token.
            let until = now.addingTimeInterval(policy.unauthorizedPause)
            return Decision(
                newStatus: deadlinePassed ? .expired : .waiting, countsAsAttempt: false,
                notBefore: deadlinePassed ? nil : until,
                lastError: deadlinePassed ? FailureReason.deadlinePassed : description,
                ambiguous: message.ambiguous, effect: .pauseBot(reason: .unauthorized(description), until: until))

        case .rejected(_, let description):
            return Decision(
                newStatus: .failed, countsAsAttempt: true, lastError: description, ambiguous: message.ambiguous)

        case .transient(let description):
            return retry(message: message, description: description, ambiguous: message.ambiguous,
                         now: now, policy: policy, random: &random)

        case .ambiguous(let description):
            // Telegram has no idempotency for sends: retrying may duplicate, so at-most-once stops here.
            if message.atMostOnce {
                return Decision(
                    newStatus: .failed, countsAsAttempt: true, lastError: FailureReason.outcomeUnknown,
                    ambiguous: true)
            }
            return retry(message: message, description: description, ambiguous: true,
                         now: now, policy: policy, random: &random)
        }
    }

    /// A counted failed attempt: back off, or give up when attempts or time run out.
    private static func retry(
        message: OutboundMessage, description: String, ambiguous: Bool, now: Date, policy: RetryPolicy,
        random: inout some RandomNumberGenerator
    ) -> Decision {
        let attempts = message.attempts + 1
        guard policy.allowsRetry(afterAttempts: attempts) else {
            return Decision(
                newStatus: .failed, countsAsAttempt: true,
                lastError: FailureReason.attemptsExhausted(description), ambiguous: ambiguous)
        }
        let notBefore = now.addingTimeInterval(policy.delay(afterAttempt: attempts, random: &random))
        if let deadline = message.deadline, notBefore >= deadline {
            let reason = now >= deadline
                ? FailureReason.deadlinePassed : FailureReason.retryBeyondDeadline(description)
            return Decision(newStatus: .expired, countsAsAttempt: true, lastError: reason, ambiguous: ambiguous)
        }
        return Decision(
            newStatus: .waiting, countsAsAttempt: true, notBefore: notBefore, lastError: description,
            ambiguous: ambiguous)
    }
}
