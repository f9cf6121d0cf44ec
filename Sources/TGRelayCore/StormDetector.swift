import Foundation

/// Recognises a 429 storm: several lanes of one bot rate-limited at nearly the same time means the
/// bot-wide limit was hit, so pausing single lanes would only move the 429s to the next ones.
struct StormDetector: Sendable {
    let configuration: StormDetection
    /// Recent 429s, one per lane (its latest), oldest first.
    private var recent: [(lane: LaneKey, at: TimeInterval, until: TimeInterval)] = []

    init(configuration: StormDetection) {
        self.configuration = configuration
    }

    /// Records a 429; returns the time until which the whole bot should pause when this makes a storm.
    mutating func record(lane: LaneKey, at time: TimeInterval, until: TimeInterval) -> TimeInterval? {
        recent.removeAll { $0.at <= time - configuration.window || $0.lane == lane }
        recent.append((lane, time, until))
        guard recent.count >= configuration.distinctLanes else { return nil }
        return recent.map(\.until).max()
    }
}
