import Foundation

/// Health of one (bot, endpoint) pair (DESIGN.md "Outages"). Closed: sends flow. Open: nothing is
/// sent, so waiting messages consume no attempts, and a cheap probe (`getMe`) is due on a backoff
/// schedule. Half-open: the probe is in flight. A successful probe, or any success, closes it.
public struct CircuitBreaker: Sendable {
    public struct Configuration: Sendable, Equatable {
        /// Consecutive endpoint failures that open the circuit.
        public var consecutiveFailures: Int
        /// Failure ratio over `ratioWindow` that opens the circuit, for endpoints that fail often
        /// without failing consecutively…
        public var failureRatio: Double
        public var ratioWindow: TimeInterval
        /// …once the window holds at least this many requests.
        public var ratioMinimumRequests: Int
        public var probeInitialDelay: TimeInterval
        public var probeMultiplier: Double
        /// Kept short so the backlog starts draining within seconds of Telegram's return (a probe that
        /// fails just before the recovery delays the drain by this much); one `getMe` a second costs nothing.
        public var probeMaximumDelay: TimeInterval

        public init(
            consecutiveFailures: Int = 5, failureRatio: Double = 0.5, ratioWindow: TimeInterval = 30,
            ratioMinimumRequests: Int = 20, probeInitialDelay: TimeInterval = 0.5, probeMultiplier: Double = 2,
            probeMaximumDelay: TimeInterval = 1
        ) {
            self.consecutiveFailures = consecutiveFailures
            self.failureRatio = failureRatio
            self.ratioWindow = ratioWindow
            self.ratioMinimumRequests = ratioMinimumRequests
            self.probeInitialDelay = probeInitialDelay
            self.probeMultiplier = probeMultiplier
            self.probeMaximumDelay = probeMaximumDelay
        }
    }

    public enum State: Sendable, Equatable {
        case closed
        /// Failing since `outageStartedAt`; the next probe is due at `nextProbeAt`.
        case open(outageStartedAt: Date, nextProbeAt: Date)
        /// A probe is in flight.
        case halfOpen(outageStartedAt: Date)
    }

    /// Reported so the dispatcher can log, alert and record outages.
    public enum Transition: Sendable, Equatable {
        case opened(outageStartedAt: Date)
        case closed(outageStartedAt: Date, recoveredAt: Date)
    }

    public let configuration: Configuration
    public private(set) var state: State = .closed
    private var consecutiveFailures = 0
    /// The first failure of the current unbroken run: when the outage began as far as we can tell.
    private var firstFailureOfRun: Date?
    private var outcomes: FailureRatioWindow
    private var probeDelay: TimeInterval

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
        outcomes = FailureRatioWindow(window: configuration.ratioWindow)
        probeDelay = configuration.probeInitialDelay
    }

    public var allowsSends: Bool { state == .closed }

    /// When open, the time the next probe is due.
    public var nextProbeAt: Date? {
        if case .open(_, let next) = state { next } else { nil }
    }

    public func isProbeDue(now: Date) -> Bool {
        nextProbeAt.map { now >= $0 } ?? false
    }

    /// Feeds the result of a send (not a probe). Only `TelegramAnswer.isEndpointFailure` answers
    /// count as failures.
    public mutating func record(_ answer: TelegramAnswer, now: Date) -> Transition? {
        answer.isEndpointFailure ? recordFailure(now: now) : recordSuccess(now: now)
    }

    public mutating func recordSuccess(now: Date) -> Transition? {
        consecutiveFailures = 0
        firstFailureOfRun = nil
        switch state {
        case .closed:
            outcomes.record(failed: false, at: now.timeIntervalSinceReferenceDate)
            return nil
        case .open(let start, _), .halfOpen(let start):
            // Any answer from the endpoint proves it works again.
            close()
            return .closed(outageStartedAt: start, recoveredAt: now)
        }
    }

    public mutating func recordFailure(now: Date) -> Transition? {
        // Late answers to requests sent before the circuit opened change nothing.
        guard state == .closed else { return nil }
        consecutiveFailures += 1
        if firstFailureOfRun == nil { firstFailureOfRun = now }
        outcomes.record(failed: true, at: now.timeIntervalSinceReferenceDate)
        guard shouldOpen(now: now) else { return nil }
        let start = firstFailureOfRun ?? now
        probeDelay = configuration.probeInitialDelay
        state = .open(outageStartedAt: start, nextProbeAt: now.addingTimeInterval(probeDelay))
        return .opened(outageStartedAt: start)
    }

    /// The dispatcher sent the probe.
    public mutating func probeStarted(now: Date) {
        if case .open(let start, _) = state { state = .halfOpen(outageStartedAt: start) }
    }

    public mutating func recordProbe(succeeded: Bool, now: Date) -> Transition? {
        if succeeded { return recordSuccess(now: now) }
        guard case .halfOpen(let start) = state else { return nil }
        probeDelay = min(probeDelay * configuration.probeMultiplier, configuration.probeMaximumDelay)
        state = .open(outageStartedAt: start, nextProbeAt: now.addingTimeInterval(probeDelay))
        return nil
    }

    private func shouldOpen(now: Date) -> Bool {
        if consecutiveFailures >= configuration.consecutiveFailures { return true }
        let totals = outcomes.totals(at: now.timeIntervalSinceReferenceDate)
        return totals.requests >= configuration.ratioMinimumRequests
            && Double(totals.failures) >= configuration.failureRatio * Double(totals.requests)
    }

    private mutating func close() {
        state = .closed
        outcomes.reset()
        probeDelay = configuration.probeInitialDelay
    }
}
