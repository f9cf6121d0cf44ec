import Foundation
import Testing
import TGRelayCore

@Suite struct EndpointSelectorTests {
    let urls = ["https://api.telegram.org", "http://bot-api-1:8081", "http://bot-api-2:8081"]

    func fail(_ selector: inout EndpointSelector, endpoint: Int, from second: Double) {
        for step in 0..<5 {
            _ = selector.record(.transient("connection refused"), endpoint: endpoint, now: at(second + Double(step) * 0.1))
        }
    }

    @Test func sendsGoToTheFirstHealthyEndpointInOrder() {
        var selector = EndpointSelector(baseURLs: urls)
        #expect(selector.endpointForSend == 0)
        #expect(selector.baseURLForSend == "https://api.telegram.org")

        fail(&selector, endpoint: 0, from: 0)
        #expect(selector.endpointForSend == 1)
        fail(&selector, endpoint: 1, from: 1)
        #expect(selector.baseURLForSend == "http://bot-api-2:8081")
        fail(&selector, endpoint: 2, from: 2)
        // Everything is down: nothing is sent, no attempt is consumed.
        #expect(selector.endpointForSend == nil)
        #expect(selector.baseURLForSend == nil)
    }

    @Test func returnsToTheFirstOnceItRecovers() {
        var selector = EndpointSelector(baseURLs: urls)
        fail(&selector, endpoint: 0, from: 0)
        #expect(selector.endpointForSend == 1)
        // The failed endpoint keeps being probed while traffic goes to the next.
        #expect(selector.nextProbeAt == at(0.9))
        #expect(selector.probesDue(now: at(0.8)) == [])
        #expect(selector.probesDue(now: at(0.9)) == [0])
        selector.probeStarted(endpoint: 0, now: at(0.9))
        #expect(selector.probesDue(now: at(5)) == [])
        #expect(selector.endpointForSend == 1)
        #expect(selector.recordProbe(endpoint: 0, succeeded: true, now: at(1))
            == .closed(outageStartedAt: at(0), recoveredAt: at(1)))
        #expect(selector.endpointForSend == 0)
    }

    @Test func failedProbesKeepTheFailover() {
        var selector = EndpointSelector(baseURLs: urls)
        fail(&selector, endpoint: 0, from: 0)
        selector.probeStarted(endpoint: 0, now: at(0.9))
        #expect(selector.recordProbe(endpoint: 0, succeeded: false, now: at(1)) == nil)
        #expect(selector.endpointForSend == 1)
        #expect(selector.nextProbeAt == at(2))
    }

    @Test func eachEndpointHasItsOwnCircuit() {
        var selector = EndpointSelector(baseURLs: urls)
        fail(&selector, endpoint: 1, from: 0)
        #expect(selector.endpointForSend == 0)
        #expect(selector.endpoints[0].breaker.allowsSends)
        #expect(!selector.endpoints[1].breaker.allowsSends)
        #expect(selector.endpoints.map(\.baseURL) == urls)
    }

    @Test func usesTheGivenConfiguration() {
        var selector = EndpointSelector(baseURLs: ["a"], configuration: .init(consecutiveFailures: 1))
        #expect(selector.record(.transient("x"), endpoint: 0, now: at(0)) == .opened(outageStartedAt: at(0)))
        #expect(selector.endpointForSend == nil)
    }
}
