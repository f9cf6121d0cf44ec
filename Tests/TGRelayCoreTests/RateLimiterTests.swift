import Foundation
import Testing
import TGRelayCore

@Suite struct RateLimiterTests {
    let margin = RateLimits.telegramDefaults.safetyMargin
    let privateChat = LaneKey(bot: "b", chat: "42")
    let group = LaneKey(bot: "b", chat: "-100123")

    func seconds(_ date: Date) -> TimeInterval { date.timeIntervalSince(t0) }

    @Test func defaultsAreTelegramsFAQ() {
        let limits = RateLimits.telegramDefaults
        #expect(limits.privateChat == WindowLimit(count: 1, per: 1))
        #expect(limits.group == WindowLimit(count: 20, per: 60, spacing: 0.5))
        #expect(limits.bot.spacing == 1.0 / 30)
        #expect(limits.privateChat.spacing == 1)
        #expect(limits.bot == WindowLimit(count: 30, per: 1))
        #expect(limits.paidBroadcast == nil)
        #expect(RateLimits.paidBroadcastMaximum == WindowLimit(count: 1000, per: 1))
        #expect(limits.storm == StormDetection(distinctLanes: 3, window: 1))
    }

    @Test func aFreshLaneSendsAtOnce() {
        let limiter = RateLimiter()
        #expect(limiter.earliestSend(for: privateChat, paidBroadcast: false, now: at(5)) == at(5))
    }

    @Test func privateChatsGetOneMessagePerSecondPlusMargin() {
        var limiter = RateLimiter()
        limiter.recordSend(lane: privateChat, at: at(0))
        #expect(abs(seconds(limiter.earliestSend(for: privateChat, paidBroadcast: false, now: at(0))) - (1 + margin)) < 1e-6)
        // Other chats are independent (only the bot's pacing applies to them).
        #expect(limiter.earliestLaneSend(LaneKey(bot: "b", chat: "43"), now: at(0)) == at(0))
        #expect(limiter.earliestSend(for: privateChat, paidBroadcast: false, now: at(3)) == at(3))
    }

    @Test func botSendsArePacedAtTheNominalRate() {
        var limiter = RateLimiter()
        limiter.recordSend(lane: privateChat, at: at(0))
        let next = limiter.earliestSend(for: LaneKey(bot: "b", chat: "43"), paidBroadcast: false, now: at(0))
        // On schedule, less the jitter a send may be early by.
        #expect(abs(seconds(next) - (1.0 / 30 - 0.01)) < 1e-6)
        #expect(limiter.earliestSend(for: LaneKey(bot: "b", chat: "43"), paidBroadcast: false, now: at(0.5)) == at(0.5))
    }

    @Test func aLateSendDoesNotPushThePacingScheduleBack() {
        // 1,000/s: sends due every millisecond, each one leaving 0.3 ms late (a timer firing late).
        var limiter = RateLimiter(limits: RateLimits(bot: WindowLimit(count: 1000, per: 1), safetyMargin: 0))
        var clock = 0.0
        for index in 0..<500 {
            clock = seconds(limiter.earliestSend(for: LaneKey(bot: "b", chat: "\(index)"), paidBroadcast: false, now: at(clock))) + 0.0003
            limiter.recordSend(lane: LaneKey(bot: "b", chat: "\(index)"), at: at(clock))
        }
        // Still on the 1 ms schedule: 500 sends in half a second, not 500 × 1.3 ms.
        #expect(clock < 0.5)
        // Never more than the tolerance ahead of it: the 1,000 in a second still hold with room to spare.
        #expect(clock > 0.499 - 0.01)
    }

    @Test func groupsGetTwentyPerMinuteTwoPerSecond() {
        var limiter = RateLimiter()
        var clock = at(0)
        for index in 0..<20 {
            clock = limiter.earliestSend(for: group, paidBroadcast: false, now: clock)
            // Every send after the first may go up to the pacing tolerance (10 ms) before its schedule.
            #expect(abs(seconds(clock) - (Double(index) / 2 - (index == 0 ? 0 : 0.01))) < 1e-6)
            limiter.recordSend(lane: group, at: clock)
        }
        // The 21st waits until the first leaves the window, the 22nd until the second does.
        clock = limiter.earliestSend(for: group, paidBroadcast: false, now: clock)
        #expect(abs(seconds(clock) - (60 + margin)) < 1e-6)
        limiter.recordSend(lane: group, at: clock)
        #expect(abs(seconds(limiter.earliestSend(for: group, paidBroadcast: false, now: clock)) - (60.49 + margin)) < 1e-6)
    }

    @Test func usernamesAreGroups() {
        var limiter = RateLimiter()
        let channel = LaneKey(bot: "b", chat: "@news")
        for _ in 0..<20 { limiter.recordSend(lane: channel, at: at(0)) }
        #expect(seconds(limiter.earliestSend(for: channel, paidBroadcast: false, now: at(1))) > 60)
    }

    @Test func theBotGetsThirtyPerSecondAcrossChats() {
        var limiter = RateLimiter()
        for index in 0..<30 {
            limiter.recordSend(lane: LaneKey(bot: "b", chat: String(1000 + index)), at: at(Double(index) * 0.01))
        }
        let fresh = LaneKey(bot: "b", chat: "5000")
        #expect(abs(seconds(limiter.earliestSend(for: fresh, paidBroadcast: false, now: at(0.3))) - (1 + margin)) < 1e-6)
        #expect(abs(seconds(limiter.earliestBotSend(paidBroadcast: false, now: at(0.3))) - (1 + margin)) < 1e-6)
        #expect(limiter.earliestLaneSend(fresh, now: at(0.3)) == at(0.3))
    }

    @Test func paidBroadcastsUseThePaidRateWhenEnabled() {
        var limiter = RateLimiter(limits: RateLimits(paidBroadcast: RateLimits.paidBroadcastMaximum))
        for index in 0..<30 {
            limiter.recordSend(lane: LaneKey(bot: "b", chat: String(1000 + index)), at: at(0))
        }
        let next = LaneKey(bot: "b", chat: "9999")
        // 30 sends at once took the paid schedule's first 30 ms (less the pacing tolerance of 1 ms).
        #expect(abs(seconds(limiter.earliestSend(for: next, paidBroadcast: true, now: at(0))) - 0.029) < 1e-5)
        #expect(seconds(limiter.earliestSend(for: next, paidBroadcast: false, now: at(0))) > 1)
        for index in 30..<1000 {
            limiter.recordSend(lane: LaneKey(bot: "b", chat: String(1000 + index)), at: at(0))
        }
        #expect(abs(seconds(limiter.earliestSend(for: next, paidBroadcast: true, now: at(0))) - (1 + margin)) < 1e-6)
    }

    @Test func paidSendsDoNotPushTheFreeScheduleAhead() {
        var limiter = RateLimiter(limits: RateLimits(paidBroadcast: RateLimits.paidBroadcastMaximum))
        for index in 0..<1000 {
            limiter.recordSend(lane: LaneKey(bot: "b", chat: String(1000 + index)), at: at(Double(index) / 1000), paidBroadcast: true)
        }
        // Once the free window has room again (a second after the 30th most recent send), a free send
        // goes: the thousand paid sends took paid pacing slots, not a thousand free ones (33 s).
        let free = limiter.earliestSend(for: privateChat, paidBroadcast: false, now: at(1))
        #expect(seconds(free) < 2.1)
    }

    @Test func paidFlagIsIgnoredWithoutTheTier() {
        var limiter = RateLimiter()
        for index in 0..<30 {
            limiter.recordSend(lane: LaneKey(bot: "b", chat: String(1000 + index)), at: at(0))
        }
        #expect(seconds(limiter.earliestSend(for: privateChat, paidBroadcast: true, now: at(0))) > 1)
    }

    @Test func perChatLimitsStillApplyToPaidSends() {
        var limiter = RateLimiter(limits: RateLimits(paidBroadcast: RateLimits.paidBroadcastMaximum))
        limiter.recordSend(lane: privateChat, at: at(0))
        #expect(seconds(limiter.earliestSend(for: privateChat, paidBroadcast: true, now: at(0))) > 1)
    }

    @Test func lateRecordsKeepTheWindowOrdered() {
        var limiter = RateLimiter(limits: RateLimits(bot: WindowLimit(count: 2, per: 1)))
        limiter.recordSend(lane: LaneKey(bot: "b", chat: "1"), at: at(0.5))
        limiter.recordSend(lane: LaneKey(bot: "b", chat: "2"), at: at(0.2))
        // The older of the two bounds the next send.
        #expect(abs(seconds(limiter.earliestBotSend(paidBroadcast: false, now: at(0.6))) - (1.2 + margin)) < 1e-6)
        // A record older than every kept one changes nothing.
        limiter.recordSend(lane: LaneKey(bot: "b", chat: "3"), at: at(0.1))
        #expect(abs(seconds(limiter.earliestBotSend(paidBroadcast: false, now: at(0.6))) - (1.2 + margin)) < 1e-6)
    }

    @Test func configurableLimitsAndMargin() {
        var limiter = RateLimiter(limits: RateLimits(privateChat: WindowLimit(count: 3, per: 3), safetyMargin: 0.1))
        for time in [0.0, 0.1, 0.2] { limiter.recordSend(lane: privateChat, at: at(time)) }
        #expect(abs(seconds(limiter.earliestSend(for: privateChat, paidBroadcast: false, now: at(0.2))) - 3.1) < 1e-6)
    }

    @Test func tableGivesPerBotLimits() {
        let paid = RateLimits(paidBroadcast: RateLimits.paidBroadcastMaximum)
        let table = RateLimitTable(overrides: ["shop": paid])
        #expect(table.limits(forBot: "shop") == paid)
        #expect(table.limits(forBot: "alerts") == .telegramDefaults)
    }

    // MARK: pauses and storms

    @Test func aPausedLaneWaitsExactlyUntilTheEnd() {
        var limiter = RateLimiter()
        limiter.pauseLane(privateChat, until: at(17))
        #expect(limiter.earliestSend(for: privateChat, paidBroadcast: false, now: at(0)) == at(17))
        #expect(limiter.earliestSend(for: group, paidBroadcast: false, now: at(0)) == at(0))
        // A shorter pause does not cut a longer one.
        limiter.pauseLane(privateChat, until: at(5))
        #expect(limiter.earliestSend(for: privateChat, paidBroadcast: false, now: at(0)) == at(17))
    }

    @Test func pausesSurviveTheDroppingOfIdleLanes() {
        var limiter = RateLimiter()
        limiter.pauseLane(privateChat, until: at(100))
        for index in 0..<50 {
            limiter.recordSend(lane: LaneKey(bot: "b", chat: String(1000 + index)), at: at(Double(index)))
        }
        #expect(limiter.earliestSend(for: privateChat, paidBroadcast: false, now: at(50)) == at(100))
        limiter.recordSend(lane: group, at: at(101))
        #expect(limiter.trackedLaneCount == 1)
    }

    @Test func aPausedBotHoldsEveryLane() {
        var limiter = RateLimiter()
        limiter.pauseBot(until: at(60))
        #expect(limiter.earliestSend(for: privateChat, paidBroadcast: false, now: at(0)) == at(60))
        #expect(limiter.earliestSend(for: group, paidBroadcast: true, now: at(0)) == at(60))
        #expect(limiter.botPause(now: at(0)) == at(60))
        #expect(limiter.botPause(now: at(60)) == nil)
        limiter.resumeBot()
        #expect(limiter.earliestSend(for: privateChat, paidBroadcast: false, now: at(0)) == at(0))
    }

    @Test func singleRateLimitsPauseOnlyTheirLane() {
        var limiter = RateLimiter()
        #expect(limiter.recordRateLimited(lane: privateChat, retryAfter: 5, now: at(0)) == .lanePaused(until: at(5)))
        #expect(limiter.recordRateLimited(lane: group, retryAfter: 9, now: at(0.5)) == .lanePaused(until: at(9.5)))
        #expect(limiter.earliestSend(for: privateChat, paidBroadcast: false, now: at(1)) == at(5))
        #expect(limiter.earliestSend(for: LaneKey(bot: "b", chat: "7"), paidBroadcast: false, now: at(1)) == at(1))
    }

    @Test func threeLanesWithinASecondAreAStorm() {
        var limiter = RateLimiter()
        _ = limiter.recordRateLimited(lane: privateChat, retryAfter: 30, now: at(0))
        _ = limiter.recordRateLimited(lane: group, retryAfter: 3, now: at(0.4))
        let third = limiter.recordRateLimited(lane: LaneKey(bot: "b", chat: "7"), retryAfter: 2, now: at(0.9))
        // The whole bot waits for the largest retry_after among them.
        #expect(third == .botPaused(until: at(30)))
        #expect(limiter.earliestSend(for: LaneKey(bot: "b", chat: "8"), paidBroadcast: false, now: at(1)) == at(30))
    }

    @Test func repeatedRateLimitsOfOneLaneAreNoStorm() {
        var limiter = RateLimiter()
        for step in 0..<5 {
            let response = limiter.recordRateLimited(lane: privateChat, retryAfter: 1, now: at(Double(step) * 0.1))
            #expect(response == .lanePaused(until: at(Double(step) * 0.1 + 1)))
        }
        #expect(limiter.botPause(now: at(0.5)) == nil)
    }

    @Test func rateLimitsSpreadOverMoreThanTheWindowAreNoStorm() {
        var limiter = RateLimiter()
        _ = limiter.recordRateLimited(lane: LaneKey(bot: "b", chat: "1"), retryAfter: 1, now: at(0))
        _ = limiter.recordRateLimited(lane: LaneKey(bot: "b", chat: "2"), retryAfter: 1, now: at(0.6))
        let response = limiter.recordRateLimited(lane: LaneKey(bot: "b", chat: "3"), retryAfter: 1, now: at(1.2))
        #expect(response == .lanePaused(until: at(2.2)))
    }

    @Test func stormThresholdIsConfigurable() {
        var limiter = RateLimiter(limits: RateLimits(storm: StormDetection(distinctLanes: 2, window: 5)))
        _ = limiter.recordRateLimited(lane: LaneKey(bot: "b", chat: "1"), retryAfter: 4, now: at(0))
        let response = limiter.recordRateLimited(lane: LaneKey(bot: "b", chat: "2"), retryAfter: 1, now: at(4))
        #expect(response == .botPaused(until: at(5)))
    }

    // MARK: memory

    @Test func idleChatsAreForgotten() {
        var limiter = RateLimiter()
        for index in 0..<1000 {
            limiter.recordSend(lane: LaneKey(bot: "b", chat: String(index + 1)), at: at(Double(index) * 0.001))
        }
        #expect(limiter.trackedLaneCount == 1000)
        // A window (plus margin) after the last of them, all are gone.
        limiter.recordSend(lane: privateChat, at: at(2.03))
        #expect(limiter.trackedLaneCount == 1)
        // Groups are remembered for their whole minute.
        limiter.recordSend(lane: group, at: at(3))
        limiter.recordSend(lane: privateChat, at: at(50))
        #expect(limiter.trackedLaneCount == 2)
        limiter.recordSend(lane: privateChat, at: at(63.1))
        #expect(limiter.trackedLaneCount == 1)
    }
}
