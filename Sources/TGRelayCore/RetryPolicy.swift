import Foundation

/// How transient failures are retried (DESIGN.md: exponential backoff from 1 s, doubling, capped
/// at 30 s, ±20 % jitter, at most 5 attempts).
public struct RetryPolicy: Sendable, Equatable {
    public var initialDelay: TimeInterval
    public var multiplier: Double
    /// Bounds the jittered delay too, so no wait is ever longer than this.
    public var maximumDelay: TimeInterval
    /// Relative spread: 0.2 draws each delay uniformly from ±20 % of the nominal one, so that
    /// messages failed by the same outage do not retry in lockstep.
    public var jitter: Double
    /// Counted attempts after which a transient or ambiguous failure becomes a dead letter.
    public var maximumAttempts: Int
    /// How long a bot stays paused after a 401 before the token is tried again.
    public var unauthorizedPause: TimeInterval

    public init(
        initialDelay: TimeInterval = 1, multiplier: Double = 2, maximumDelay: TimeInterval = 30,
        jitter: Double = 0.2, maximumAttempts: Int = 5, unauthorizedPause: TimeInterval = 60
    ) {
        self.initialDelay = initialDelay
        self.multiplier = multiplier
        self.maximumDelay = maximumDelay
        self.jitter = jitter
        self.maximumAttempts = maximumAttempts
        self.unauthorizedPause = unauthorizedPause
    }

    public static let `default` = RetryPolicy()

    /// The nominal (unjittered) wait after the `attempt`-th counted attempt failed (1-based).
    public func nominalDelay(afterAttempt attempt: Int) -> TimeInterval {
        ExponentialBackoff.nominal(after: attempt, initial: initialDelay, multiplier: multiplier, maximum: maximumDelay)
    }

    /// The wait after the `attempt`-th counted attempt failed, jittered with `random`.
    public func delay(afterAttempt attempt: Int, random: inout some RandomNumberGenerator) -> TimeInterval {
        ExponentialBackoff.jittered(nominalDelay(afterAttempt: attempt), jitter: jitter, maximum: maximumDelay, random: &random)
    }

    /// Whether an attempt that failed as attempt number `attempts` may be followed by another.
    public func allowsRetry(afterAttempts attempts: Int) -> Bool {
        attempts < maximumAttempts
    }
}
