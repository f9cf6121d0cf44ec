import Foundation
import Testing
import TGRelayCore

@Suite struct CircuitBreakerTests {
    @Test func startsClosed() {
        let breaker = CircuitBreaker()
        #expect(breaker.state == .closed)
        #expect(breaker.allowsSends)
        #expect(breaker.nextProbeAt == nil)
    }

    @Test func opensOnTheFifthConsecutiveFailureAndReportsWhenTheOutageBegan() {
        var breaker = CircuitBreaker()
        for second in 0..<4 {
            #expect(breaker.recordFailure(now: at(Double(second))) == nil)
            #expect(breaker.allowsSends)
        }
        #expect(breaker.recordFailure(now: at(4)) == .opened(outageStartedAt: at(0)))
        #expect(breaker.state == .open(outageStartedAt: at(0), nextProbeAt: at(4.5)))
        #expect(!breaker.allowsSends)
    }

    @Test func aSuccessResetsTheRun() {
        var breaker = CircuitBreaker()
        for second in 0..<4 { _ = breaker.recordFailure(now: at(Double(second))) }
        #expect(breaker.recordSuccess(now: at(4)) == nil)
        for second in 5..<9 { #expect(breaker.recordFailure(now: at(Double(second))) == nil) }
        #expect(breaker.recordFailure(now: at(9)) == .opened(outageStartedAt: at(5)))
    }

    @Test func onlyEndpointFailuresCount() {
        var breaker = CircuitBreaker()
        for second in 0..<10 {
            _ = breaker.record(.rejected(errorCode: 400, description: "Bad Request: chat not found"), now: at(Double(second)))
            _ = breaker.record(.rateLimited(retryAfter: 3), now: at(Double(second)))
        }
        #expect(breaker.allowsSends)
        for second in 10..<14 { _ = breaker.record(.transient("connection refused"), now: at(Double(second))) }
        #expect(breaker.record(.ambiguous("timeout after the request was sent"), now: at(14)) == .opened(outageStartedAt: at(10)))
    }

    @Test func opensOnAHighFailureRatioWithoutAConsecutiveRun() {
        var breaker = CircuitBreaker()
        var transition: CircuitBreaker.Transition?
        // Alternating success and failure: never 5 in a row, but half of the traffic fails.
        for step in 0..<20 where transition == nil {
            let now = at(Double(step) * 0.5)
            transition = step.isMultiple(of: 2) ? breaker.recordSuccess(now: now) : breaker.recordFailure(now: now)
        }
        #expect(transition == .opened(outageStartedAt: at(9.5)))
        #expect(!breaker.allowsSends)
    }

    @Test func theRatioNeedsEnoughRequestsAndForgetsOldOnes() {
        var breaker = CircuitBreaker(configuration: .init(consecutiveFailures: 100))
        // 10 failures in 19 requests: below the minimum sample.
        for step in 0..<19 {
            _ = step < 10 ? breaker.recordFailure(now: at(Double(step))) : breaker.recordSuccess(now: at(Double(step)))
        }
        #expect(breaker.allowsSends)
        // Much later the old failures are outside the 30 s window: 20 requests, 1 failure.
        for step in 0..<19 { _ = breaker.recordSuccess(now: at(100 + Double(step) * 0.1)) }
        #expect(breaker.recordFailure(now: at(102)) == nil)
        #expect(breaker.allowsSends)
    }

    @Test func probesBackOffFromHalfASecondUpToOne() {
        var breaker = CircuitBreaker()
        for second in 0..<5 { _ = breaker.recordFailure(now: at(Double(second))) }
        var now = at(4)
        var delays: [TimeInterval] = []
        for _ in 0..<7 {
            let due = breaker.nextProbeAt!
            delays.append((due.timeIntervalSince(now) * 1000).rounded() / 1000)
            #expect(!breaker.isProbeDue(now: due.addingTimeInterval(-0.001)))
            #expect(breaker.isProbeDue(now: due))
            now = due
            breaker.probeStarted(now: now)
            #expect(breaker.state == .halfOpen(outageStartedAt: at(0)))
            #expect(!breaker.allowsSends)
            #expect(breaker.recordProbe(succeeded: false, now: now) == nil)
        }
        #expect(delays == [0.5, 1, 1, 1, 1, 1, 1])
    }

    @Test func aSuccessfulProbeClosesAndReportsTheOutage() {
        var breaker = CircuitBreaker()
        for second in 0..<5 { _ = breaker.recordFailure(now: at(Double(second))) }
        breaker.probeStarted(now: at(4.5))
        #expect(breaker.recordProbe(succeeded: true, now: at(4.6)) == .closed(outageStartedAt: at(0), recoveredAt: at(4.6)))
        #expect(breaker.state == .closed)
        #expect(breaker.allowsSends)
        // The next outage starts from scratch: five new failures, probe after half a second again.
        for second in 10..<14 { #expect(breaker.recordFailure(now: at(Double(second))) == nil) }
        #expect(breaker.recordFailure(now: at(14)) == .opened(outageStartedAt: at(10)))
        #expect(breaker.nextProbeAt == at(14.5))
    }

    @Test func lateAnswersWhileOpen() {
        var breaker = CircuitBreaker()
        for second in 0..<5 { _ = breaker.recordFailure(now: at(Double(second))) }
        // A failure of a request sent before opening changes nothing…
        #expect(breaker.recordFailure(now: at(4.1)) == nil)
        #expect(breaker.nextProbeAt == at(4.5))
        // …a success proves the endpoint answers again.
        #expect(breaker.recordSuccess(now: at(4.2)) == .closed(outageStartedAt: at(0), recoveredAt: at(4.2)))
    }

    @Test func probeResultsOutsideAProbeAreIgnoredUnlessSuccessful() {
        var breaker = CircuitBreaker()
        #expect(breaker.recordProbe(succeeded: false, now: at(0)) == nil)
        #expect(breaker.state == .closed)
        breaker.probeStarted(now: at(0))
        #expect(breaker.state == .closed)
    }
}
