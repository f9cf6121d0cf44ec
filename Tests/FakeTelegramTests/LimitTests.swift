import Foundation
import Testing

@testable import FakeTelegram

/// Flood limits over HTTP, with windows shrunk so the suite stays fast. `retry_after` counts in
/// units of `retryAfterUnit` (100 ms here).
@Suite(.serialized) struct LimitTests {
    static let unit = 0.1

    /// The description and `parameters.retry_after` agree, and the value is within [1, max].
    func expect429(_ reply: Reply, max: Int64) {
        #expect(reply.status == 429)
        let n = reply.retryAfter ?? -1
        #expect(reply.description == "Too Many Requests: retry after \(n)")
        #expect(n >= 1 && n <= max, "retry_after \(n) not in 1...\(max)")
    }

    @Test func privateChatBurstThen429() async throws {
        let rule = FakeLimitRule(count: 3, window: .seconds(3))
        try await Harness.run({ $0.limits = limits(privateChat: rule) }) { h throws in
            for i in 0..<3 { #expect(try await h.call("sendMessage", ["chat_id": 42, "text": .string("m\(i)")]).ok) }
            let rejected = try await h.call("sendMessage", ["chat_id": 42, "text": "m3"])
            expect429(rejected, max: 30)
            // Another chat is a different lane.
            #expect(try await h.call("sendMessage", ["chat_id": 43, "text": "other"]).ok)
            let stats = h.fake.stats()
            #expect(stats.limitViolations == 1)
            #expect(stats.limitViolationsByKind == ["private_chat": 1])
            #expect(stats.injectedTooManyRequests == 0)
            // Honouring retry_after exactly is enough (the simulator clock jumps instead of the test waiting).
            h.fake.advanceClock(by: .seconds(Double(rejected.retryAfter ?? 30) * Self.unit))
            #expect(try await h.call("sendMessage", ["chat_id": 42, "text": "m3 again"]).ok)
            #expect(h.fake.messages(chat: "42").count == 4)
        }
    }

    @Test func evenSenderAtOnePerSecondNeverViolates() async throws {
        // Telegram's private-chat rule scaled by 0.1: "one per second" is one per 100 ms.
        try await Harness.run({ $0.limits = FakeLimits.telegram.scaled(by: 0.1) }) { h throws in
            for i in 0..<15 {
                let reply = try await h.call("sendMessage", ["chat_id": 42, "text": .string("tick \(i)")])
                #expect(reply.ok, "send \(i): \(reply.body)")
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(h.fake.stats().limitViolations == 0)
        }
    }

    @Test func telegramPrivateRuleAllowsBurstOfThree() {
        var limiter = RateLimiter(limits: .telegram)
        for t in [0.0, 0.01, 0.02] { #expect(limiter.admit(bot: 1, chat: 5, isPrivate: true, paid: false, now: t) == nil) }
        let rejection = limiter.admit(bot: 1, chat: 5, isPrivate: true, paid: false, now: 0.03)
        #expect(rejection == .init(retryAfter: 3, kind: .privateChat, punished: false))
        // An even 1/s sender with ±0.2 s jitter stays within 3 per 2.5 s.
        var even = RateLimiter(limits: .telegram)
        for i in 0..<100 {
            let jitter = i % 2 == 0 ? 0.2 : -0.2
            #expect(even.admit(bot: 1, chat: 6, isPrivate: true, paid: false, now: 10 + Double(i) + jitter) == nil)
        }
    }

    @Test func groupLimitTwentyPerWindow() async throws {
        let rule = FakeLimitRule(count: 20, window: .seconds(3))
        try await Harness.run({ $0.limits = limits(groupChat: rule) }) { h throws in
            let start = ContinuousClock.now
            for i in 0..<20 { #expect(try await h.call("sendMessage", ["chat_id": -100_123, "text": .string("g\(i)")]).ok) }
            let rejected = try await h.call("sendMessage", ["chat_id": -100_123, "text": "g20"])
            expect429(rejected, max: 30)
            // The window frees 3 s after the first send: retry_after = ceil((3 s - elapsed) / 100 ms).
            let elapsed = (ContinuousClock.now - start).seconds
            #expect(Double(rejected.retryAfter ?? 0) >= (3 - elapsed) * 10 - 0.001)
            // @username channels are group-like lanes too.
            for i in 0..<20 { #expect(try await h.call("sendMessage", ["chat_id": "@news", "text": .string("c\(i)")]).ok) }
            expect429(try await h.call("sendMessage", ["chat_id": "@news", "text": "c20"]), max: 30)
            #expect(h.fake.stats().limitViolationsByKind == ["group_chat": 2])
        }
    }

    @Test func botWideLimit() async throws {
        let rule = FakeLimitRule(count: 30, window: .seconds(10))
        try await Harness.run({ $0.limits = limits(bot: rule) }) { h throws in
            for chat in 1...30 { #expect(try await h.call("sendMessage", ["chat_id": .int(Int64(chat)), "text": "b"]).ok) }
            let rejected = try await h.call("sendMessage", ["chat_id": 31, "text": "b"])
            expect429(rejected, max: 100)
            #expect(h.fake.stats().limitViolationsByKind == ["bot": 1])
            // Another bot has its own budget.
            #expect(try await h.call("sendMessage", ["chat_id": 31, "text": "b"], token: "456:def").ok)
            // Non-sending methods never count.
            #expect(try await h.call("getMe").ok)
        }
    }

    @Test func paidBroadcastTier() async throws {
        try await Harness.run({
            $0.limits = limits(bot: .init(count: 30, window: .seconds(10)), paid: .init(count: 50, window: .seconds(10)))
        }) { h throws in
            for chat in 1...50 {
                let reply = try await h.call("sendMessage", ["chat_id": .int(Int64(chat)), "text": "p", "allow_paid_broadcast": true])
                #expect(reply.ok, "paid send \(chat)")
            }
            let over = try await h.call("sendMessage", ["chat_id": 51, "text": "p", "allow_paid_broadcast": true])
            expect429(over, max: 100)
            // The free tier is long exhausted by the paid traffic.
            expect429(try await h.call("sendMessage", ["chat_id": 52, "text": "free"]), max: 100)
            #expect(h.fake.stats().limitViolationsByKind == ["paid_broadcast": 1, "bot": 1])
        }
    }

    @Test func ignoringRetryAfterIsPunished() async throws {
        let rule = FakeLimitRule(count: 1, window: .seconds(3))
        try await Harness.run({ $0.limits = limits(privateChat: rule, punishment: .seconds(1)) }) { h throws in
            #expect(try await h.call("sendMessage", ["chat_id": 42, "text": "1"]).ok)
            let first = try await h.call("sendMessage", ["chat_id": 42, "text": "2"])
            expect429(first, max: 30)
            let second = try await h.call("sendMessage", ["chat_id": 42, "text": "2"])
            expect429(second, max: 40)
            #expect((second.retryAfter ?? 0) > (first.retryAfter ?? 0), "the penalty grows")
            // Even waiting out the original retry_after is not enough now.
            h.fake.advanceClock(by: .seconds(Double(first.retryAfter ?? 30) * Self.unit))
            let third = try await h.call("sendMessage", ["chat_id": 42, "text": "2"])
            expect429(third, max: 40)
            // Waiting out the full, extended penalty is.
            h.fake.advanceClock(by: .seconds(Double(third.retryAfter ?? 40) * Self.unit))
            #expect(try await h.call("sendMessage", ["chat_id": 42, "text": "2"]).ok)
            let stats = h.fake.stats()
            #expect(stats.limitViolations == 3)
            #expect(stats.punishedRequests == 2)
            #expect(h.fake.messages().count == 2)
        }
    }

    @Test func scaledLimitsShrinkEveryDuration() {
        let scaled = FakeLimits.telegram.scaled(by: 0.01)
        #expect(scaled.groupChat == FakeLimitRule(count: 20, window: .milliseconds(600)))
        #expect(scaled.privateChat == FakeLimitRule(count: 3, window: .milliseconds(25)))
        #expect(scaled.retryAfterUnit == .milliseconds(10))
        #expect(FakeLimits.off.bot == nil)
    }
}
