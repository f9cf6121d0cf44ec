import Foundation
import Testing
import TGRelayCore

/// Drives the limiter with a virtual clock the way the dispatcher does, lets each send arrive with
/// up to ±15 ms of jitter, and checks the arrivals against exact sliding windows, as Telegram's
/// simulator counts them. Violations must be zero; throughput must stay within 3 % of nominal.
@Suite struct RateLimiterFidelityTests {
    static let jitter = 0.015

    /// Arrival times of every send, per chat and for the bot.
    struct Arrivals {
        var perChat: [String: [TimeInterval]] = [:]
        var bot: [TimeInterval] = []
        var sendTimes: [TimeInterval] = []
        var perChatSendTimes: [String: [TimeInterval]] = [:]

        mutating func add(chat: String, sentAt send: TimeInterval, jitter: TimeInterval) {
            perChat[chat, default: []].append(send + jitter)
            perChatSendTimes[chat, default: []].append(send)
            bot.append(send + jitter)
            sendTimes.append(send)
        }
    }

    /// Number of windows of `length` holding more than `count` arrivals. A window is closed on
    /// both ends here, stricter than Telegram's: `count + 1` arrivals `length` apart violate.
    static func violations(_ arrivals: [TimeInterval], count: Int, length: TimeInterval) -> Int {
        let sorted = arrivals.sorted()
        guard sorted.count > count else { return 0 }
        return (0..<(sorted.count - count)).filter { sorted[$0 + count] - sorted[$0] <= length }.count
    }

    /// Sends per second sustained over whole windows: from send number `period` (after the
    /// opening burst) to the last send a whole number of periods later, so bursts do not flatter it.
    static func steadyRate(_ sendTimes: [TimeInterval], period: Int) -> Double {
        let times = sendTimes.sorted()
        let first = period
        let last = first + (times.count - 1 - first) / period * period
        return Double(last - first) / (times[last] - times[first])
    }

    static func uniformJitter(_ random: inout SeededRandom) -> TimeInterval {
        Double(random.next() >> 11) / Double(1 << 53 as UInt64) * 2 * jitter - jitter
    }

    /// One send to each of `chats` distinct private chats, each as early as the limiter allows (the
    /// dispatcher's way), the send numbered `index` arriving `jitter(index)` late (or early).
    /// `afterEach` observes the limiter after every send.
    static func broadcast(
        _ limiter: inout RateLimiter, chats: Int, paid: Bool = false, jitter: (Int) -> TimeInterval,
        afterEach: (RateLimiter) -> Void = { _ in }
    ) -> Arrivals {
        var arrivals = Arrivals()
        var clock = t0
        for index in 0..<chats {
            let lane = LaneKey(bot: "b", chat: String(100_000 + index))
            clock = limiter.earliestSend(for: lane, paidBroadcast: paid, now: clock)
            limiter.recordSend(lane: lane, at: clock)
            arrivals.add(chat: lane.chat, sentAt: clock.timeIntervalSince(t0), jitter: jitter(index))
            afterEach(limiter)
        }
        return arrivals
    }

    @Test func broadcastToThreeThousandPrivateChats() {
        var limiter = RateLimiter()
        var random = SeededRandom(seed: 3000)
        var largestTracked = 0
        let arrivals = Self.broadcast(&limiter, chats: 3000, jitter: { _ in Self.uniformJitter(&random) }) {
            largestTracked = max(largestTracked, $0.trackedLaneCount)
        }
        #expect(Self.violations(arrivals.bot, count: 30, length: 1) == 0)
        let steady = Self.steadyRate(arrivals.sendTimes, period: 30)
        let overall = Double(arrivals.sendTimes.count - 1) / arrivals.sendTimes.last!
        print("3,000-chat broadcast: steady \(steady)/s (\(steady / 30 * 100) % of 30/s), from first to last send \(overall)/s")
        #expect(steady >= 0.97 * 30)
        #expect(steady <= 30)
        // Only chats that sent within the last window are remembered.
        #expect(largestTracked <= 31)
    }

    @Test func worstCaseJitterStillNeverViolates() {
        // Early sends of a window arrive late and the window's last ones early: the tightest packing.
        var limiter = RateLimiter()
        let arrivals = Self.broadcast(&limiter, chats: 600) { ($0 / 30) % 2 == 0 ? Self.jitter : -Self.jitter }
        #expect(Self.violations(arrivals.bot, count: 30, length: 1) == 0)
    }

    @Test func withoutTheMarginJitterWouldViolate() {
        // The checker is sharp enough to catch what the margin prevents.
        var limiter = RateLimiter(limits: RateLimits(safetyMargin: 0))
        var random = SeededRandom(seed: 1)
        let arrivals = Self.broadcast(&limiter, chats: 600) { _ in Self.uniformJitter(&random) }
        #expect(Self.violations(arrivals.bot, count: 30, length: 1) > 0)
    }

    @Test func broadcastToThreeGroups() {
        var limiter = RateLimiter()
        var random = SeededRandom(seed: 20)
        var arrivals = Arrivals()
        let groups = ["-1001", "-1002", "@channel"].map { LaneKey(bot: "b", chat: $0) }
        var remaining = Dictionary(uniqueKeysWithValues: groups.map { ($0, 100) })
        var clock = t0
        while let (lane, time) = groups.filter({ remaining[$0]! > 0 })
            .map({ ($0, limiter.earliestSend(for: $0, paidBroadcast: false, now: clock)) })
            .min(by: { $0.1 < $1.1 }) {
            clock = time
            limiter.recordSend(lane: lane, at: clock)
            remaining[lane]! -= 1
            arrivals.add(chat: lane.chat, sentAt: clock.timeIntervalSince(t0), jitter: Self.uniformJitter(&random))
        }
        #expect(Self.violations(arrivals.bot, count: 30, length: 1) == 0)
        for group in groups {
            let chatArrivals = arrivals.perChat[group.chat]!
            #expect(chatArrivals.count == 100)
            #expect(Self.violations(chatArrivals, count: 20, length: 60) == 0)
            let perMinute = Self.steadyRate(arrivals.perChatSendTimes[group.chat]!, period: 20) * 60
            print("group \(group.chat): \(perMinute) messages/min")
            #expect(perMinute >= 0.97 * 20)
            #expect(perMinute <= 20)
        }
    }

    @Test func oneChatAtItsLimit() {
        var limiter = RateLimiter()
        var random = SeededRandom(seed: 9)
        var arrivals = Arrivals()
        let lane = LaneKey(bot: "b", chat: "42")
        var clock = t0
        for _ in 0..<300 {
            clock = limiter.earliestSend(for: lane, paidBroadcast: false, now: clock)
            limiter.recordSend(lane: lane, at: clock)
            arrivals.add(chat: lane.chat, sentAt: clock.timeIntervalSince(t0), jitter: Self.uniformJitter(&random))
        }
        let chat = arrivals.perChat["42"]!
        #expect(Self.violations(chat, count: 3, length: 3) == 0)
        #expect(Self.violations(chat, count: 1, length: 1) == 0)
        #expect(Self.steadyRate(arrivals.sendTimes, period: 1) >= 0.97)
    }

    @Test func mixedTrafficWithPausesNeverViolates() {
        var limiter = RateLimiter()
        var random = SeededRandom(seed: 77)
        var arrivals = Arrivals()
        let lanes = (0..<200).map { LaneKey(bot: "b", chat: String(5000 + $0)) }
            + (0..<10).map { LaneKey(bot: "b", chat: String(-100_500 - $0)) }
        var remaining = Dictionary(uniqueKeysWithValues: lanes.map { ($0, Int(random.next() % 40) + 1) })
        var clock = t0
        var sent = 0
        while true {
            // The dispatcher's view: every lane with work, and when each may go.
            let ready = lanes.filter { remaining[$0]! > 0 }
            guard let (lane, time) = ready
                .map({ ($0, limiter.earliestSend(for: $0, paidBroadcast: false, now: clock)) })
                .min(by: { $0.1 < $1.1 }) else { break }
            clock = time
            if random.next() % 200 == 0 {
                // Now and then Telegram answers 429 instead: the lane pauses, nothing arrived.
                _ = limiter.recordRateLimited(lane: lane, retryAfter: Int(random.next() % 5) + 1, now: clock)
                continue
            }
            limiter.recordSend(lane: lane, at: clock)
            remaining[lane]! -= 1
            sent += 1
            arrivals.add(chat: lane.chat, sentAt: clock.timeIntervalSince(t0), jitter: Self.uniformJitter(&random))
        }
        #expect(sent == arrivals.bot.count)
        #expect(Self.violations(arrivals.bot, count: 30, length: 1) == 0)
        for lane in lanes {
            let chat = arrivals.perChat[lane.chat] ?? []
            switch lane.chatKind {
            case .privateChat: #expect(Self.violations(chat, count: 3, length: 3) == 0)
            case .group: #expect(Self.violations(chat, count: 20, length: 60) == 0)
            }
        }
    }

    @Test func paidBroadcastReachesNearlyAThousandPerSecond() {
        var limiter = RateLimiter(limits: RateLimits(paidBroadcast: RateLimits.paidBroadcastMaximum))
        var random = SeededRandom(seed: 1000)
        let arrivals = Self.broadcast(&limiter, chats: 5000, paid: true) { _ in Self.uniformJitter(&random) }
        #expect(Self.violations(arrivals.bot, count: 1000, length: 1) == 0)
        let steady = Self.steadyRate(arrivals.sendTimes, period: 1000)
        print("paid broadcast: steady \(steady)/s")
        #expect(steady >= 0.97 * 1000)
        #expect(steady <= 1000)
    }
}
