import Foundation
import Testing
import TGRelayCore

@Suite struct RetryPolicyTests {
    let policy = RetryPolicy.default

    @Test func defaultsMatchTheDesign() {
        #expect(policy.initialDelay == 1)
        #expect(policy.multiplier == 2)
        #expect(policy.maximumDelay == 30)
        #expect(policy.jitter == 0.2)
        #expect(policy.maximumAttempts == 5)
    }

    @Test func nominalDelayDoublesFromOneSecondUpToTheCap() {
        #expect((1...8).map(policy.nominalDelay(afterAttempt:)) == [1, 2, 4, 8, 16, 30, 30, 30])
        #expect(policy.nominalDelay(afterAttempt: 0) == 1)
        #expect(policy.nominalDelay(afterAttempt: 1000) == 30)
    }

    @Test func jitterSpansPlusMinusTwentyPercent() {
        var low = FixedRandom.lowest
        var high = FixedRandom.highest
        var middle = FixedRandom.middle
        #expect(abs(policy.delay(afterAttempt: 3, random: &low) - 3.2) < 1e-9)
        #expect(abs(policy.delay(afterAttempt: 3, random: &high) - 4.8) < 1e-6)
        #expect(abs(policy.delay(afterAttempt: 3, random: &middle) - 4) < 1e-6)
    }

    @Test func jitteredDelaysStayInRangeAndNeverExceedTheCap() {
        var random = SeededRandom(seed: 1)
        for attempt in 1...10 {
            let nominal = policy.nominalDelay(afterAttempt: attempt)
            var delays: [TimeInterval] = []
            for _ in 0..<500 {
                delays.append(policy.delay(afterAttempt: attempt, random: &random))
            }
            #expect(delays.allSatisfy { $0 >= nominal * 0.8 && $0 <= min(nominal * 1.2, 30) })
            // Spread, not a constant: jitter de-synchronises retries.
            #expect(Set(delays).count > 100)
        }
    }

    @Test func noJitterGivesTheNominalDelay() {
        var random = SeededRandom(seed: 2)
        let exact = RetryPolicy(jitter: 0)
        #expect(exact.delay(afterAttempt: 4, random: &random) == 8)
    }

    @Test func fiveAttemptsThenNoMore() {
        #expect((1...6).map(policy.allowsRetry(afterAttempts:)) == [true, true, true, true, false, false])
    }
}
