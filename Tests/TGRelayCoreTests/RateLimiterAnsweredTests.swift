import Foundation
import Testing

@testable import TGRelayCore

/// Sends count in the windows at the time they were answered: the latest they can have reached Telegram.
struct RateLimiterAnsweredTests {
    let t0 = Date(timeIntervalSinceReferenceDate: 1_000_000)
    let lane = LaneKey(bot: "b", chat: "1")

    func limiter() -> RateLimiter {
        RateLimiter(limits: RateLimits(bot: WindowLimit(count: 3, per: 1), safetyMargin: 0))
    }

    @Test func aSlowAnswerPushesTheWindowBack() {
        var limiter = limiter()
        let lanes = (1...4).map { LaneKey(bot: "b", chat: String($0)) }
        let departures = [0.0, 0.3, 0.6].map { t0.addingTimeInterval($0) }
        for (lane, time) in zip(lanes, departures) { limiter.recordSend(lane: lane, at: time) }
        #expect(abs(limiter.earliestBotSend(paidBroadcast: false, now: t0.addingTimeInterval(0.7)).timeIntervalSince(t0) - 1) < 1e-6)
        // The first request spent 50 ms on its way: it may have arrived at 0.05.
        limiter.recordAnswered(lane: lanes[0], departed: departures[0], answered: t0.addingTimeInterval(0.05))
        #expect(abs(limiter.earliestBotSend(paidBroadcast: false, now: t0.addingTimeInterval(0.7)).timeIntervalSince(t0) - 1.05) < 1e-6)
    }

    @Test func pacingStillCountsFromTheDeparture() {
        var limiter = limiter()
        limiter.recordSend(lane: lane, at: t0)
        limiter.recordAnswered(lane: lane, departed: t0, answered: t0.addingTimeInterval(0.2))
        let other = LaneKey(bot: "b", chat: "2")
        #expect(abs(limiter.earliestSend(for: other, paidBroadcast: false, now: t0).timeIntervalSince(t0) - (1.0 / 3 - 0.01)) < 1e-6)
    }

    @Test func anAnswerForASendNoLongerKeptChangesNothing() {
        var limiter = limiter()
        let lanes = (1...5).map { LaneKey(bot: "b", chat: String($0)) }
        for (index, lane) in lanes.enumerated() { limiter.recordSend(lane: lane, at: t0.addingTimeInterval(Double(index) * 0.4)) }
        let before = limiter.earliestBotSend(paidBroadcast: false, now: t0.addingTimeInterval(1.7))
        limiter.recordAnswered(lane: lanes[0], departed: t0, answered: t0.addingTimeInterval(5))
        #expect(limiter.earliestBotSend(paidBroadcast: false, now: t0.addingTimeInterval(1.7)) == before)
    }

    @Test func theLaneWindowCountsTheAnswerToo() {
        var limiter = RateLimiter(limits: RateLimits(safetyMargin: 0))
        limiter.recordSend(lane: lane, at: t0)
        limiter.recordAnswered(lane: lane, departed: t0, answered: t0.addingTimeInterval(0.3))
        #expect(abs(limiter.earliestLaneSend(lane, now: t0).timeIntervalSince(t0) - 1.3) < 1e-6)
    }
}
