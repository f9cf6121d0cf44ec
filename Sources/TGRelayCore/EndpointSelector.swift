import Foundation

/// One bot's Bot API base URLs in priority order, each with its own circuit. Sends go to the first
/// endpoint whose circuit is closed; open ones keep being probed, so traffic returns to a preferred
/// endpoint as soon as it recovers.
public struct EndpointSelector: Sendable {
    public struct Endpoint: Sendable {
        public let baseURL: String
        public internal(set) var breaker: CircuitBreaker
    }

    public private(set) var endpoints: [Endpoint]

    public init(baseURLs: [String], configuration: CircuitBreaker.Configuration = .init()) {
        precondition(!baseURLs.isEmpty, "at least one Bot API base URL is needed")
        endpoints = baseURLs.map { Endpoint(baseURL: $0, breaker: CircuitBreaker(configuration: configuration)) }
    }

    /// Where the next send goes, or `nil` when every circuit is open: then nothing is sent and
    /// messages wait without consuming attempts.
    public var endpointForSend: Int? {
        endpoints.firstIndex { $0.breaker.allowsSends }
    }

    public var baseURLForSend: String? {
        endpointForSend.map { endpoints[$0].baseURL }
    }

    /// Endpoints whose probe is due now.
    public func probesDue(now: Date) -> [Int] {
        endpoints.indices.filter { endpoints[$0].breaker.isProbeDue(now: now) }
    }

    /// The earliest time a probe becomes due, for the dispatcher's sleep.
    public var nextProbeAt: Date? {
        endpoints.compactMap(\.breaker.nextProbeAt).min()
    }

    public mutating func record(_ answer: TelegramAnswer, endpoint: Int, now: Date) -> CircuitBreaker.Transition? {
        endpoints[endpoint].breaker.record(answer, now: now)
    }

    public mutating func probeStarted(endpoint: Int, now: Date) {
        endpoints[endpoint].breaker.probeStarted(now: now)
    }

    public mutating func recordProbe(endpoint: Int, succeeded: Bool, now: Date) -> CircuitBreaker.Transition? {
        endpoints[endpoint].breaker.recordProbe(succeeded: succeeded, now: now)
    }
}
