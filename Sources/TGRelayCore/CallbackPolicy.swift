import Foundation

/// When a status callback that failed is tried again, and when the relay stops trying.
///
/// The receiver is the operator's own service, which may be down for a deploy or an outage of its own:
/// the wait doubles from 1 s up to 5 min (±20 % jitter, so callbacks owed since the same outage do not
/// arrive in lockstep) and the relay keeps trying for a day before marking the callback failed.
public struct CallbackPolicy: Sendable, Equatable {
    public var initialDelay: TimeInterval
    public var multiplier: Double
    /// Bounds the jittered delay too.
    public var maximumDelay: TimeInterval
    public var jitter: Double
    /// Counted from when the callback became owed: no attempt starts after this much time has passed.
    public var horizon: TimeInterval

    public init(
        initialDelay: TimeInterval = 1, multiplier: Double = 2, maximumDelay: TimeInterval = 300, jitter: Double = 0.2,
        horizon: TimeInterval = 86_400
    ) {
        self.initialDelay = initialDelay
        self.multiplier = multiplier
        self.maximumDelay = maximumDelay
        self.jitter = jitter
        self.horizon = horizon
    }

    public enum Decision: Sendable, Equatable {
        /// Try again at this time.
        case retry(at: Date)
        /// The horizon is reached: mark the callback failed.
        case giveUp
    }

    /// The nominal (unjittered) wait after the `tries`-th attempt failed (1-based).
    public func nominalDelay(afterTries tries: Int) -> TimeInterval {
        ExponentialBackoff.nominal(after: tries, initial: initialDelay, multiplier: multiplier, maximum: maximumDelay)
    }

    /// What follows a failed attempt: `tries` attempts so far, the first owed at `owedSince`, now `now`.
    /// A retry that would start beyond the horizon is not scheduled: the callback gives up now instead
    /// of waiting only to give up later.
    public func afterFailure(
        tries: Int, owedSince: Date, now: Date, random: inout some RandomNumberGenerator
    ) -> Decision {
        let delay = ExponentialBackoff.jittered(
            nominalDelay(afterTries: tries), jitter: jitter, maximum: maximumDelay, random: &random)
        let next = now.addingTimeInterval(delay)
        guard next.timeIntervalSince(owedSince) <= horizon else { return .giveUp }
        return .retry(at: next)
    }
}
