import Foundation

/// The times of the most recent sends in one scope, enough to enforce "at most N in any W": a new
/// send may go once the N-th most recent one is `W` (plus margin) old. Sends are also paced
/// `limit.spacing` apart on a schedule (GCRA): a send that left a little late (a timer firing late,
/// a busy thread) does not push every later one back, or a 1,000/s bot would lose a tenth of its
/// rate to timer jitter alone; they may catch up by up to `paceTolerance`. Keeps only the newest N
/// times in a ring, so a decision is O(1) and memory is O(N).
struct SlidingWindowLog: Sendable {
    let limit: WindowLimit
    /// `limit.window` plus the safety margin.
    let span: TimeInterval
    /// Ascending send times, oldest at `head`. Once a send is answered its entry moves to the
    /// answer's time: the latest it can have arrived at Telegram, which counts arrivals.
    private var ring: [TimeInterval]
    private var head = 0
    private(set) var count = 0
    /// When the next send is due on the pacing schedule (the theoretical arrival time of GCRA). Pacing
    /// counts from departures, not from (later) answers.
    private var paceDue: TimeInterval = -.infinity
    /// How far ahead of its schedule a send may go: the jitter a late predecessor is forgiven.
    static let paceTolerance: TimeInterval = 0.01
    private var paceTolerance: TimeInterval { min(Self.paceTolerance, limit.spacing) }
    /// The latest send that moved the schedule: a send recorded late (older than it) took no slot of
    /// the schedule's future.
    private var lastPaced: TimeInterval = -.infinity

    init(limit: WindowLimit, margin: TimeInterval) {
        self.limit = limit
        self.span = limit.window + margin
        self.ring = Array(repeating: 0, count: limit.count)
    }

    /// The earliest time not before `now` at which one more send stays within the limit.
    func earliest(notBefore now: TimeInterval) -> TimeInterval {
        guard count > 0 else { return now }
        let paced = max(now, paceDue - paceTolerance)
        guard count == limit.count else { return paced }
        return max(paced, ring[head] + span)
    }

    /// When this log stops mattering: after it, any send is allowed again.
    var expiry: TimeInterval {
        count == 0 ? -.infinity : max(newest + span, paceDue - paceTolerance)
    }

    private var newest: TimeInterval { ring[slot(count - 1)] }

    /// `paced`: the send takes a slot of this scope's pacing schedule (paid broadcasts count in the free
    /// bot window but are paced by the paid one only).
    mutating func record(_ time: TimeInterval, paced: Bool = true) {
        if paced, time >= lastPaced {
            paceDue = max(paceDue, time) + limit.spacing
            lastPaced = time
        }
        if count == limit.count {
            // Sends older than all kept ones cannot constrain future sends.
            guard time > ring[head] else { return }
            head = (head + 1) % limit.count
            count -= 1
        }
        ring[slot(count)] = time
        count += 1
        // Keep ascending order when a send is recorded late; normally the loop does not run.
        var position = count - 1
        while position > 0, ring[slot(position - 1)] > ring[slot(position)] {
            ring.swapAt(slot(position - 1), slot(position))
            position -= 1
        }
    }

    /// The send that left at `departed` was answered at `answered`: it reached Telegram at some
    /// point in between, so it counts as late as that. A request delayed on its way (a stalled
    /// connection, a busy front end) then cannot make the next window's sends arrive too close.
    /// Nothing happens when the send is no longer among the kept ones.
    mutating func answered(departed: TimeInterval, at answered: TimeInterval) {
        guard answered > departed, let offset = (0..<count).last(where: { ring[slot($0)] == departed }) else { return }
        ring[slot(offset)] = answered
        var position = offset
        while position + 1 < count, ring[slot(position)] > ring[slot(position + 1)] {
            ring.swapAt(slot(position), slot(position + 1))
            position += 1
        }
    }

    private func slot(_ offset: Int) -> Int {
        (head + offset) % limit.count
    }
}
