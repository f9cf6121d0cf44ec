import DequeModule
import Foundation
import HeapModule
import TGRelayCore

/// Which lanes may be worked on now: pure bookkeeping, no I/O, driven by the caller's clock.
///
/// A lane is in one of three places: waiting for a time (a timer in the heap), ready (in its bot's FIFO),
/// or in flight (a send task owns it). Work therefore scales with lanes that are due, not with queued
/// messages: a lane with a million messages is one entry here.
struct LaneScheduler {
    private enum State {
        case waiting(generation: Int)
        case ready
        /// `dirty` records new work that arrived while the lane was busy, so its end cannot lose it.
        case inFlight(dirty: Bool)
    }

    private struct Timer: Comparable {
        var at: Date
        var lane: LaneKey
        var generation: Int
        static func < (a: Timer, b: Timer) -> Bool { a.at < b.at }
        static func == (a: Timer, b: Timer) -> Bool { a.at == b.at && a.generation == b.generation }
    }

    private var states: [LaneKey: State] = [:]
    private var timers = Heap<Timer>()
    private var ready: [String: Deque<LaneKey>] = [:]
    private var nextGeneration = 0

    var laneCount: Int { states.count }
    var botsWithReadyLanes: [String] { ready.compactMap { $0.value.isEmpty ? nil : $0.key } }
    func readyCount(bot: String) -> Int { ready[bot]?.count ?? 0 }
    /// When the earliest waiting lane becomes due (stale timers may make this early, never late).
    var nextTimer: Date? { timers.min?.at }

    /// New work for a lane (accept, replay, reactivation): make it ready unless it is already known.
    mutating func touch(_ lane: LaneKey) {
        switch states[lane] {
        case nil: makeReady(lane)
        case .inFlight: states[lane] = .inFlight(dirty: true)
        case .waiting, .ready: break
        }
    }

    /// Wakes a waiting lane at once (its wait ended early, e.g. a circuit closed).
    mutating func wake(_ lane: LaneKey) {
        if case .waiting = states[lane] { makeReady(lane) }
    }

    /// Takes the next ready lane of a bot; the caller now owns it until `finish`.
    mutating func popReady(bot: String) -> LaneKey? {
        guard let lane = ready[bot]?.popFirst() else { return nil }
        states[lane] = .inFlight(dirty: false)
        return lane
    }

    /// Ends the work on a lane: `next` is when its head may go next, nil when the lane looked empty.
    mutating func finish(_ lane: LaneKey, next: Date?, now: Date) {
        guard case .inFlight(let dirty) = states[lane] else { return }
        switch next {
        case nil where dirty: makeReady(lane)
        case nil: states[lane] = nil
        case let at? where at <= now: makeReady(lane)
        case let at?: wait(lane, until: at)
        }
    }

    /// Moves every lane whose time has come to its bot's ready queue.
    mutating func promoteDue(now: Date) {
        while let top = timers.min, top.at <= now {
            _ = timers.popMin()
            if case .waiting(let generation) = states[top.lane], generation == top.generation {
                makeReady(top.lane)
            }
        }
    }

    private mutating func wait(_ lane: LaneKey, until at: Date) {
        nextGeneration += 1
        states[lane] = .waiting(generation: nextGeneration)
        timers.insert(Timer(at: at, lane: lane, generation: nextGeneration))
    }

    private mutating func makeReady(_ lane: LaneKey) {
        states[lane] = .ready
        ready[lane.bot, default: []].append(lane)
    }
}
