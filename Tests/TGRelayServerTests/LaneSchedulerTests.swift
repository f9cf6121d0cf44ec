import Foundation
import TGRelayCore
import Testing

@testable import TGRelayServer

/// The scheduler's bookkeeping with a controlled clock: no I/O, no sleeping.
struct LaneSchedulerTests {
    let t0 = Date(timeIntervalSince1970: 1_000_000)
    let a = LaneKey(bot: "b", chat: "1")
    let b = LaneKey(bot: "b", chat: "2")
    let other = LaneKey(bot: "c", chat: "1")

    @Test func touchedLanesAreReadyInArrivalOrderPerBot() {
        var scheduler = LaneScheduler()
        scheduler.touch(a)
        scheduler.touch(other)
        scheduler.touch(b)
        scheduler.touch(a)  // already ready: not queued twice
        #expect(Set(scheduler.botsWithReadyLanes) == ["b", "c"])
        #expect(scheduler.readyCount(bot: "b") == 2)
        #expect(scheduler.popReady(bot: "b") == a)
        #expect(scheduler.popReady(bot: "b") == b)
        #expect(scheduler.popReady(bot: "b") == nil)
        #expect(scheduler.popReady(bot: "c") == other)
    }

    @Test func aWaitingLaneBecomesReadyWhenItsTimeComes() {
        var scheduler = LaneScheduler()
        scheduler.touch(a)
        _ = scheduler.popReady(bot: "b")
        scheduler.finish(a, next: t0.addingTimeInterval(5), now: t0)
        #expect(scheduler.nextTimer == t0.addingTimeInterval(5))
        scheduler.promoteDue(now: t0.addingTimeInterval(4.9))
        #expect(scheduler.readyCount(bot: "b") == 0)
        scheduler.promoteDue(now: t0.addingTimeInterval(5))
        #expect(scheduler.popReady(bot: "b") == a)
    }

    @Test func workArrivingWhileALaneIsBusyIsNotLost() {
        var scheduler = LaneScheduler()
        scheduler.touch(a)
        _ = scheduler.popReady(bot: "b")
        // The lane looked empty to the send task, but a message was accepted meanwhile.
        scheduler.touch(a)
        scheduler.finish(a, next: nil, now: t0)
        #expect(scheduler.popReady(bot: "b") == a)
        scheduler.finish(a, next: nil, now: t0)
        #expect(scheduler.laneCount == 0, "an empty lane without new work is forgotten")
    }

    @Test func wakingEndsAWaitEarlyAndTheStaleTimerIsIgnored() {
        var scheduler = LaneScheduler()
        scheduler.touch(a)
        _ = scheduler.popReady(bot: "b")
        scheduler.finish(a, next: t0.addingTimeInterval(60), now: t0)
        scheduler.wake(a)
        #expect(scheduler.popReady(bot: "b") == a)
        scheduler.finish(a, next: t0.addingTimeInterval(1), now: t0)
        scheduler.promoteDue(now: t0.addingTimeInterval(61))
        #expect(scheduler.readyCount(bot: "b") == 1, "the old 60 s timer does not queue the lane a second time")
    }

    @Test func aMillionMessagesInOneLaneAreOneEntry() {
        var scheduler = LaneScheduler()
        for _ in 0..<1_000 { scheduler.touch(a) }
        #expect(scheduler.laneCount == 1)
        #expect(scheduler.readyCount(bot: "b") == 1)
    }

    @Test func lanesBeyondTheWindowWaitInTheStoreAndArePagedInInStoreOrder() {
        var scheduler = LaneScheduler(window: 2)
        let lanes = (1...5).map { LaneKey(bot: "b", chat: "\($0)") }
        lanes.forEach { scheduler.touch($0) }
        #expect(scheduler.laneCount == 2)
        #expect(scheduler.pageRequest(bot: "b", limit: 10) == nil, "no room in the window")
        #expect(scheduler.popReady(bot: "b") == lanes[0])
        scheduler.finish(lanes[0], next: nil, now: t0)
        // The store still holds lanes 2–5; a page from the start brings in what fits.
        let first = scheduler.pageRequest(bot: "b", limit: 10)
        #expect(first == .init(bot: "b", after: nil, limit: 10))
        scheduler.loaded(Array(lanes[1...]), for: first!)
        #expect(scheduler.laneCount == 2)
        #expect(scheduler.popReady(bot: "b") == lanes[1])
        #expect(scheduler.popReady(bot: "b") == lanes[2])
        scheduler.finish(lanes[1], next: nil, now: t0)
        scheduler.finish(lanes[2], next: nil, now: t0)
        // The next page continues after the last lane taken in.
        let second = scheduler.pageRequest(bot: "b", limit: 10)
        #expect(second?.after == lanes[2])
        scheduler.loaded(Array(lanes[3...]), for: second!)
        #expect(scheduler.popReady(bot: "b") == lanes[3])
        #expect(scheduler.popReady(bot: "b") == lanes[4])
        scheduler.finish(lanes[3], next: nil, now: t0)
        scheduler.finish(lanes[4], next: t0.addingTimeInterval(9), now: t0)
        // That pass left lanes out, so another pass from the start checks the store once more.
        let third = scheduler.pageRequest(bot: "b", limit: 10)
        #expect(third?.after == nil)
        scheduler.loaded([lanes[4]], for: third!)
        #expect(scheduler.laneCount == 1, "a waiting lane is not made ready by a page")
        #expect(scheduler.pageRequest(bot: "b", limit: 10) == nil, "a pass that left nothing out saw every lane")
    }

    @Test func aFullPageContinuesThePassAndKnownLanesAreNotQueuedTwice() {
        var scheduler = LaneScheduler(window: 10)
        scheduler.leftInStore(bot: "b")
        let lanes = (1...3).map { LaneKey(bot: "b", chat: "\($0)") }
        scheduler.touch(lanes[0])
        let first = scheduler.pageRequest(bot: "b", limit: 2)!
        scheduler.loaded([lanes[0], lanes[1]], for: first)
        #expect(scheduler.readyCount(bot: "b") == 2)
        let second = scheduler.pageRequest(bot: "b", limit: 2)
        #expect(second?.after == lanes[1])
        scheduler.loaded([lanes[2]], for: second!)
        #expect(scheduler.readyCount(bot: "b") == 3)
        // The first pass began before anything was known, so one more pass confirms nothing is missing.
        let confirm = scheduler.pageRequest(bot: "b", limit: 5)
        #expect(confirm?.after == nil)
        scheduler.loaded(lanes, for: confirm!)
        #expect(scheduler.readyCount(bot: "b") == 3)
        #expect(scheduler.pageRequest(bot: "b", limit: 5) == nil)
        #expect(scheduler.pageRequest(bot: "other", limit: 2) == nil)
    }

    @Test func aLaneDroppedDuringAPassCausesAnotherPass() {
        var scheduler = LaneScheduler(window: 1)
        let a = LaneKey(bot: "b", chat: "1")
        let z = LaneKey(bot: "b", chat: "9")
        scheduler.leftInStore(bot: "b")
        let request = scheduler.pageRequest(bot: "b", limit: 5)!
        // While the page is read, lane 1 arrives and fills the window; lane 9 no longer fits.
        scheduler.touch(a)
        scheduler.touch(z)
        scheduler.loaded([a, z], for: request)
        #expect(scheduler.laneCount == 1)
        _ = scheduler.popReady(bot: "b")
        scheduler.finish(a, next: nil, now: t0)
        let again = scheduler.pageRequest(bot: "b", limit: 5)
        #expect(again != nil, "lane 9 is still in the store")
        scheduler.loaded([z], for: again!)
        #expect(scheduler.popReady(bot: "b") == z)
    }

    /// A deep lane paced at its chat's limit must not queue behind thousands of single-message lanes for
    /// each of its sends (a backlog's critical path), nor may it starve them.
    @Test func lanesBackFromAWaitTakeTurnsWithLanesWithNewWork() {
        var scheduler = LaneScheduler()
        let deep = LaneKey(bot: "b", chat: "99")
        scheduler.touch(deep)
        #expect(scheduler.popReady(bot: "b") == deep)
        let singles = (1...5).map { LaneKey(bot: "b", chat: "\($0)") }
        singles.forEach { scheduler.touch($0) }
        scheduler.finish(deep, next: t0.addingTimeInterval(1), now: t0)
        scheduler.promoteDue(now: t0.addingTimeInterval(1))
        #expect(scheduler.readyCount(bot: "b") == 6)
        // Its time came while five lanes with new work were ready: it goes next, not sixth.
        #expect(scheduler.popReady(bot: "b") == deep)
        // Back at once after a send (the lane may be empty): behind the lanes with new work.
        scheduler.finish(deep, next: t0.addingTimeInterval(1), now: t0.addingTimeInterval(1))
        #expect((0..<6).compactMap { _ in scheduler.popReady(bot: "b") } == singles + [deep])
        // Its next message waits for the chat's spacing; when that time comes it goes first again.
        scheduler.finish(deep, next: t0.addingTimeInterval(2), now: t0.addingTimeInterval(1))
        scheduler.finish(singles[0], next: t0.addingTimeInterval(1), now: t0.addingTimeInterval(1))
        scheduler.touch(singles[1])
        scheduler.promoteDue(now: t0.addingTimeInterval(2))
        #expect(scheduler.popReady(bot: "b") == deep)
        #expect(scheduler.popReady(bot: "b") == singles[0])
        #expect(scheduler.popReady(bot: "b") == nil)
    }

    @Test func manyContinuingLanesStillLeaveEveryOtherPopToNewWork() {
        var scheduler = LaneScheduler()
        let deep = (1...4).map { LaneKey(bot: "b", chat: "d\($0)") }
        deep.forEach { scheduler.touch($0) }
        #expect((0..<4).compactMap { _ in scheduler.popReady(bot: "b") } == deep)
        for (index, lane) in deep.enumerated() { scheduler.finish(lane, next: t0.addingTimeInterval(1 + Double(index) / 100), now: t0) }
        scheduler.promoteDue(now: t0.addingTimeInterval(2))
        let fresh = (1...2).map { LaneKey(bot: "b", chat: "f\($0)") }
        fresh.forEach { scheduler.touch($0) }
        let order = (0..<6).compactMap { _ in scheduler.popReady(bot: "b") }
        #expect(order == [deep[0], fresh[0], deep[1], fresh[1], deep[2], deep[3]])
    }

    /// A broadcast queued as thousands of private chats and then a few groups: the groups' first sends
    /// must not wait for every private chat (their 20-a-minute windows are the backlog's critical path).
    @Test func groupLanesWithNewWorkDoNotQueueBehindPrivateChats() {
        var scheduler = LaneScheduler()
        let privates = (1...4).map { LaneKey(bot: "b", chat: "\($0)") }
        let groups = [LaneKey(bot: "b", chat: "-1001"), LaneKey(bot: "b", chat: "@news")]
        (privates + groups).forEach { scheduler.touch($0) }
        let order = (0..<6).compactMap { _ in scheduler.popReady(bot: "b") }
        #expect(order == [groups[0], privates[0], groups[1], privates[1], privates[2], privates[3]])
    }
}
