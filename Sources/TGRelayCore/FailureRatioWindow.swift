import Foundation

/// Outcome counts over a sliding time window, in fixed buckets so memory and cost stay constant
/// whatever the request rate.
struct FailureRatioWindow: Sendable {
    private struct Bucket: Sendable {
        var index = Int64.min
        var successes = 0
        var failures = 0
    }

    private let bucketDuration: TimeInterval
    private var buckets: [Bucket]

    init(window: TimeInterval, bucketCount: Int = 10) {
        bucketDuration = window / Double(bucketCount)
        buckets = Array(repeating: Bucket(), count: bucketCount)
    }

    mutating func record(failed: Bool, at time: TimeInterval) {
        let index = Int64((time / bucketDuration).rounded(.down))
        let slot = Int(((index % Int64(buckets.count)) + Int64(buckets.count)) % Int64(buckets.count))
        if buckets[slot].index != index {
            buckets[slot] = Bucket(index: index)
        }
        if failed { buckets[slot].failures += 1 } else { buckets[slot].successes += 1 }
    }

    /// (requests, failures) in the buckets that overlap the window ending at `time`.
    func totals(at time: TimeInterval) -> (requests: Int, failures: Int) {
        let current = Int64((time / bucketDuration).rounded(.down))
        var requests = 0
        var failures = 0
        for bucket in buckets where bucket.index > current - Int64(buckets.count) && bucket.index <= current {
            requests += bucket.successes + bucket.failures
            failures += bucket.failures
        }
        return (requests, failures)
    }

    mutating func reset() {
        buckets = Array(repeating: Bucket(), count: buckets.count)
    }
}
