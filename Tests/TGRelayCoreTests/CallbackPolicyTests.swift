import Foundation
import Testing
import TGRelayCore

@Suite struct CallbackPolicyTests {
    let policy = CallbackPolicy()

    @Test func defaultsDoubleFromOneSecondToFiveMinutesForADay() {
        #expect(policy.horizon == 86_400)
        #expect((1...11).map(policy.nominalDelay(afterTries:)) == [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300])
        #expect(policy.nominalDelay(afterTries: 0) == 1)
        #expect(policy.nominalDelay(afterTries: 100_000) == 300)
    }

    @Test func retriesAreJitteredAroundTheNominalDelay() {
        var low = FixedRandom.lowest
        var high = FixedRandom.highest
        var middle = FixedRandom.middle
        #expect(policy.afterFailure(tries: 3, owedSince: t0, now: at(10), random: &low) == .retry(at: at(10 + 3.2)))
        guard case .retry(let late) = policy.afterFailure(tries: 3, owedSince: t0, now: at(10), random: &high),
            case .retry(let mid) = policy.afterFailure(tries: 3, owedSince: t0, now: at(10), random: &middle)
        else {
            Issue.record("expected retries")
            return
        }
        #expect(abs(late.timeIntervalSince(at(10)) - 4.8) < 1e-6)
        #expect(abs(mid.timeIntervalSince(at(10)) - 4) < 1e-6)
        // The cap bounds the jittered delay too.
        #expect(policy.afterFailure(tries: 50, owedSince: t0, now: at(10), random: &high) == .retry(at: at(310)))
    }

    @Test func givesUpWhenTheNextTryWouldStartBeyondTheHorizon() {
        var middle = FixedRandom.middle
        let hour = CallbackPolicy(horizon: 3600)
        #expect(hour.afterFailure(tries: 20, owedSince: t0, now: at(3000), random: &middle) == .retry(at: at(3300)))
        #expect(hour.afterFailure(tries: 20, owedSince: t0, now: at(3301), random: &middle) == .giveUp)
        let none = CallbackPolicy(horizon: 0)
        #expect(none.afterFailure(tries: 1, owedSince: t0, now: t0, random: &middle) == .giveUp)
    }

    /// 9 doubling waits take 511 s, then waits of 240–300 s (jitter above the cap is clamped, so they
    /// average about 285 s) fill the rest of the day: about 300 more.
    @Test func aSeededSequenceReachesTheHorizonAfterAboutThreeHundredTries() {
        var random = SeededRandom(seed: 7)
        var now = t0
        var tries = 0
        while case .retry(let next) = policy.afterFailure(tries: tries + 1, owedSince: t0, now: now, random: &random) {
            #expect(next > now)
            now = next
            tries += 1
        }
        #expect(now.timeIntervalSince(t0) <= 86_400)
        #expect(now.timeIntervalSince(t0) > 86_400 - 300 * 1.2)
        #expect((295...330).contains(tries))
    }
}
