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
}
