import Foundation

/// One bot's send scheduler: answers when a lane may send next so that no limit of `RateLimits` is
/// ever exceeded, and records what was sent. It is a value fed by the dispatcher, never reads a
/// clock: sends are recorded as they happen, in (roughly) increasing time.
///
/// Per-chat state exists only while it can still delay a send (its window or a pause is running),
/// so memory follows the chats active in the last minute, not all chats ever seen.
public struct RateLimiter: Sendable {
    public let limits: RateLimits

    private struct LaneState: Sendable {
        var log: SlidingWindowLog
        var pausedUntil: TimeInterval = -.infinity

        /// After this the state says nothing: the window is clear and no pause runs.
        var expiry: TimeInterval { max(log.expiry, pausedUntil) }
    }

    private var lanes: [LaneKey: LaneState] = [:]
    /// One entry per tracked lane, at or before its expiry.
    private var expiries = LaneExpiryHeap()
    private var botLog: SlidingWindowLog
    private var paidLog: SlidingWindowLog?
    private var botPausedUntil: TimeInterval = -.infinity
    private var storms: StormDetector

    public init(limits: RateLimits = .telegramDefaults) {
        self.limits = limits
        botLog = SlidingWindowLog(limit: limits.bot, margin: limits.safetyMargin)
        paidLog = limits.paidBroadcast.map { SlidingWindowLog(limit: $0, margin: limits.safetyMargin) }
        storms = StormDetector(configuration: limits.storm)
    }

    /// How a 429 was handled.
    public enum RateLimitResponse: Sendable, Equatable {
        case lanePaused(until: Date)
        /// Enough lanes were rate-limited together that the whole bot pauses.
        case botPaused(until: Date)
    }

    // MARK: - Queries

    /// The earliest time, not before `now`, at which `lane` may send without exceeding a limit.
    /// `paidBroadcast` sends (`allow_paid_broadcast: true`) use the paid overall limit when the bot
    /// has one.
    public func earliestSend(for lane: LaneKey, paidBroadcast: Bool, now: Date) -> Date {
        let time = max(
            earliestLaneTime(lane, now: now.timeIntervalSinceReferenceDate),
            earliestBotTime(paidBroadcast: paidBroadcast, now: now.timeIntervalSinceReferenceDate))
        return Date(timeIntervalSinceReferenceDate: time)
    }

    /// The bot-wide part of `earliestSend`: no lane may send before it.
    public func earliestBotSend(paidBroadcast: Bool, now: Date) -> Date {
        Date(timeIntervalSinceReferenceDate: earliestBotTime(
            paidBroadcast: paidBroadcast, now: now.timeIntervalSinceReferenceDate))
    }

    /// The lane-only part of `earliestSend` (its chat window and pause).
    public func earliestLaneSend(_ lane: LaneKey, now: Date) -> Date {
        Date(timeIntervalSinceReferenceDate: earliestLaneTime(lane, now: now.timeIntervalSinceReferenceDate))
    }

    /// When the whole bot is paused (storm, 401), until when.
    public func botPause(now: Date) -> Date? {
        botPausedUntil > now.timeIntervalSinceReferenceDate ? Date(timeIntervalSinceReferenceDate: botPausedUntil) : nil
    }

    /// Chats whose state is still kept (for metrics and to show memory stays bounded).
    public var trackedLaneCount: Int { lanes.count }

    private func earliestLaneTime(_ lane: LaneKey, now: TimeInterval) -> TimeInterval {
        guard let state = lanes[lane] else { return now }
        return max(state.log.earliest(notBefore: now), state.pausedUntil)
    }

    private func earliestBotTime(paidBroadcast: Bool, now: TimeInterval) -> TimeInterval {
        let log = (paidBroadcast ? paidLog : nil) ?? botLog
        return max(log.earliest(notBefore: now), botPausedUntil)
    }

    // MARK: - Events

    /// A send to `lane` left at `time`. Every send counts against the free bot limit too, so free
    /// sends stay within it even when paid ones fill the second; a paid one (`paidBroadcast`, with the
    /// tier) takes its pacing slot on the paid schedule only, or a second of them would push the free
    /// schedule a minute ahead.
    public mutating func recordSend(lane: LaneKey, at time: Date, paidBroadcast: Bool = false) {
        let seconds = time.timeIntervalSinceReferenceDate
        dropIdleLanes(now: seconds)
        botLog.record(seconds, paced: !paidBroadcast || paidLog == nil)
        paidLog?.record(seconds)
        updateLane(lane) { $0.log.record(seconds) }
    }

    /// The send to `lane` that left at `departed` was answered (or given up) at `answered`.
    /// Telegram counts arrivals, and the arrival lies somewhere in between: the windows count the
    /// latest possibility, so the safety margin only has to cover clock differences.
    public mutating func recordAnswered(lane: LaneKey, departed: Date, answered: Date) {
        let (from, to) = (departed.timeIntervalSinceReferenceDate, answered.timeIntervalSinceReferenceDate)
        botLog.answered(departed: from, at: to)
        paidLog?.answered(departed: from, at: to)
        if lanes[lane] != nil { updateLane(lane) { $0.log.answered(departed: from, at: to) } }
    }

    /// A 429 for `lane`: nothing goes to it before `until`.
    public mutating func pauseLane(_ lane: LaneKey, until: Date) {
        let seconds = until.timeIntervalSinceReferenceDate
        updateLane(lane) { $0.pausedUntil = max($0.pausedUntil, seconds) }
    }

    /// Nothing goes out of this bot before `until` (a 429 storm, a revoked token).
    public mutating func pauseBot(until: Date) {
        botPausedUntil = max(botPausedUntil, until.timeIntervalSinceReferenceDate)
    }

    /// Lifts a bot pause early, e.g. once a new token works.
    public mutating func resumeBot() {
        botPausedUntil = -.infinity
    }

    /// A 429 arrived at `now` for `lane`: pauses the lane for exactly `retryAfter` seconds and, when
    /// enough distinct lanes got one within the storm window, the whole bot until the latest of
    /// their retry_after ends.
    public mutating func recordRateLimited(lane: LaneKey, retryAfter: Int, now: Date) -> RateLimitResponse {
        let until = now.addingTimeInterval(TimeInterval(retryAfter))
        dropIdleLanes(now: now.timeIntervalSinceReferenceDate)
        pauseLane(lane, until: until)
        let stormEnd = storms.record(
            lane: lane, at: now.timeIntervalSinceReferenceDate, until: until.timeIntervalSinceReferenceDate)
        guard let stormEnd else { return .lanePaused(until: until) }
        let end = Date(timeIntervalSinceReferenceDate: stormEnd)
        pauseBot(until: end)
        return .botPaused(until: end)
    }

    // MARK: - State

    private mutating func updateLane(_ lane: LaneKey, _ change: (inout LaneState) -> Void) {
        if var state = lanes[lane] {
            change(&state)
            lanes[lane] = state
            return
        }
        let limit = limits.chatLimit(for: lane.chatKind)
        var state = LaneState(log: SlidingWindowLog(limit: limit, margin: limits.safetyMargin))
        change(&state)
        lanes[lane] = state
        expiries.push(.init(time: state.expiry, lane: lane))
    }

    /// Forgets lanes whose state has expired. An entry whose lane was extended since it was pushed
    /// is pushed again at the new expiry, so each lane has exactly one entry.
    private mutating func dropIdleLanes(now: TimeInterval) {
        while let entry = expiries.earliest, entry.time <= now {
            _ = expiries.popEarliest()
            guard let state = lanes[entry.lane] else { continue }
            if state.expiry <= now {
                lanes[entry.lane] = nil
            } else {
                expiries.push(.init(time: state.expiry, lane: entry.lane))
            }
        }
    }
}
