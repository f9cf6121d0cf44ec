import DequeModule
import Foundation
import HeapModule
import TGRelayCore

/// Which lanes may be worked on now: pure bookkeeping, no I/O, driven by the caller's clock.
///
/// A lane is in one of three places: waiting for a time (a timer in the heap), ready (in one of its bot's
/// two FIFOs, `ReadyLanes`), or in flight (a send task owns it). Work therefore scales with lanes that are due, not with queued
/// messages: a lane with a million messages is one entry here.
///
/// Memory is bounded too: each bot holds at most `window` lanes. New work for a lane that does not fit
/// is left in the store, and the caller pages such lanes in (`pageRequest`, `loaded`) in the store's
/// (bot, chat) order as room frees up, wrapping around, so every pending lane gets its turn.
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

    /// Where a bot's walk through the store's pending lanes stands.
    private struct Paging {
        /// The store may hold pending lanes of this bot that are not held here.
        var unloaded = false
        /// The last lane examined in the current pass; nil at the start of a pass.
        var cursor: LaneKey?
        /// Nothing was left out since the pass started (no lane dropped for lack of room): a pass that
        /// ends clean has seen every pending lane. A pass starts when the previous one ends.
        var clean = true
    }

    /// A page of lanes to read from the store: `limit` lanes of `bot` after `after`.
    struct PageRequest: Equatable {
        var bot: String
        var after: LaneKey?
        var limit: Int
    }

    let window: Int
    private var states: [LaneKey: State] = [:]
    private var held: [String: Int] = [:]
    private var paging: [String: Paging] = [:]
    private var timers = Heap<Timer>()
    private var ready: [String: ReadyLanes] = [:]
    private var nextGeneration = 0

    /// `window`: most lanes held per bot.
    init(window: Int = 10_000) {
        self.window = max(1, window)
    }

    var laneCount: Int { states.count }
    var botsWithReadyLanes: [String] { ready.compactMap { $0.value.count == 0 ? nil : $0.key } }
    func readyCount(bot: String) -> Int { ready[bot]?.count ?? 0 }
    /// When the earliest waiting lane becomes due (stale timers may make this early, never late).
    var nextTimer: Date? { timers.min?.at }

    /// New work for a lane (accept, replay, reactivation): make it ready unless it is already known.
    /// A lane that does not fit the window stays in the store until it is paged in.
    mutating func touch(_ lane: LaneKey) {
        switch states[lane] {
        case nil where held[lane.bot, default: 0] >= window: leftInStore(bot: lane.bot)
        case nil: makeReady(lane, continuing: false)
        case .inFlight: states[lane] = .inFlight(dirty: true)
        case .waiting, .ready: break
        }
    }

    /// The store may hold pending lanes of `bot` that are not held (at start, or after a drop).
    mutating func leftInStore(bot: String) {
        paging[bot, default: Paging()].unloaded = true
        paging[bot]?.clean = false
    }

    /// The page to read next for `bot`, when lanes may be waiting in the store and the window has room.
    /// A page may hold lanes that are held already, so it is not cut to the room left.
    func pageRequest(bot: String, limit: Int) -> PageRequest? {
        guard let paging = paging[bot], paging.unloaded, held[bot, default: 0] < window else { return nil }
        return PageRequest(bot: bot, after: paging.cursor, limit: limit)
    }

    /// Takes in a page read for `request`: unknown lanes become ready while there is room. A short page
    /// ends the pass; a pass that left nothing out means every pending lane is held.
    mutating func loaded(_ page: [LaneKey], for request: PageRequest) {
        let bot = request.bot
        for lane in page {
            if states[lane] == nil {
                guard held[bot, default: 0] < window else {
                    paging[bot]?.clean = false
                    return
                }
                makeReady(lane, continuing: false)
            }
            paging[bot]?.cursor = lane
        }
        guard page.count < request.limit else { return }
        if paging[bot]?.clean == true { paging[bot]?.unloaded = false }
        // The next pass starts now, so a lane left out while its first page is read still counts.
        paging[bot]?.cursor = nil
        paging[bot]?.clean = true
    }

    /// Drops every lane of `bot`, wherever it is (its lease went); its timers go stale and are skipped.
    mutating func forget(bot: String) {
        for lane in states.keys where lane.bot == bot { states[lane] = nil }
        held[bot] = nil
        paging[bot] = nil
        ready[bot] = nil
    }

    /// Wakes a waiting lane at once (its wait ended early, e.g. a circuit closed).
    mutating func wake(_ lane: LaneKey) {
        if case .waiting = states[lane] { makeReady(lane, continuing: true) }
    }

    /// Takes the next ready lane of a bot; the caller now owns it until `finish`.
    mutating func popReady(bot: String) -> LaneKey? {
        guard let lane = ready[bot]?.pop() else { return nil }
        states[lane] = .inFlight(dirty: false)
        return lane
    }

    /// Ends the work on a lane: `next` is when its head may go next, nil when the lane looked empty.
    mutating func finish(_ lane: LaneKey, next: Date?, now: Date) {
        guard case .inFlight(let dirty) = states[lane] else { return }
        switch next {
        case nil where dirty: makeReady(lane, continuing: false)
        case nil: forget(lane)
        // Back at once after a send: the lane may well be empty, and every private chat of a broadcast
        // comes back so; in the continuing queue they would bury the lanes that wait on a timer.
        case let at? where at <= now: makeReady(lane, continuing: false)
        case let at?: wait(lane, until: at)
        }
    }

    /// Moves every lane whose time has come to its bot's ready queue.
    mutating func promoteDue(now: Date) {
        while let top = timers.min, top.at <= now {
            _ = timers.popMin()
            if case .waiting(let generation) = states[top.lane], generation == top.generation {
                makeReady(top.lane, continuing: true)
            }
        }
    }

    private mutating func wait(_ lane: LaneKey, until at: Date) {
        nextGeneration += 1
        states[lane] = .waiting(generation: nextGeneration)
        timers.insert(Timer(at: at, lane: lane, generation: nextGeneration))
    }

    private mutating func makeReady(_ lane: LaneKey, continuing: Bool) {
        if states.updateValue(.ready, forKey: lane) == nil { held[lane.bot, default: 0] += 1 }
        // A group's or channel's lane is paced at 20 a minute: with any backlog it is the critical path.
        ready[lane.bot, default: ReadyLanes()].append(lane, continuing: continuing || lane.chatKind == .group)
    }

    private mutating func forget(_ lane: LaneKey) {
        guard states.removeValue(forKey: lane) != nil else { return }
        held[lane.bot, default: 1] -= 1
    }
}

/// A bot's ready lanes in two FIFOs: lanes whose head waited for its time (their chat's spacing, a retry, a
/// 429) and lanes of groups and channels (`continuing`); and other private chats' lanes (`fresh`). While
/// both hold lanes they take turns. A deep lane paced by its chat's limit (a group's 20 a minute) is the
/// critical path of a backlog: in one FIFO its first send and then each next one would queue behind
/// every single-message lane, and a broadcast to thousands of chats would hold a group back by minutes.
/// Taking turns gives such lanes their slot as soon as their chat allows, while lanes with new work
/// still get at least every other pop.
struct ReadyLanes {
    private var continuing = Deque<LaneKey>()
    private var fresh = Deque<LaneKey>()
    private var continuingNext = true

    var count: Int { continuing.count + fresh.count }

    mutating func append(_ lane: LaneKey, continuing isContinuing: Bool) {
        if isContinuing { continuing.append(lane) } else { fresh.append(lane) }
    }

    mutating func pop() -> LaneKey? {
        let takeContinuing = fresh.isEmpty || (continuingNext && !continuing.isEmpty)
        continuingNext = !takeContinuing
        return takeContinuing ? continuing.popFirst() : fresh.popFirst()
    }
}
