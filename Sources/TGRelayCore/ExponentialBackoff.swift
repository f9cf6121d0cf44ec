import Foundation

/// Exponential backoff with relative jitter: the one algorithm behind message retries (`RetryPolicy`)
/// and status-callback retries (`CallbackPolicy`), which differ only in their parameters.
enum ExponentialBackoff {
    /// `initial × multiplierⁿ⁻¹` after the n-th failure (1-based), capped at `maximum`. The exponent is
    /// clamped so that something retried for days cannot overflow to infinity.
    static func nominal(after failures: Int, initial: TimeInterval, multiplier: Double, maximum: TimeInterval) -> TimeInterval {
        let exponent = Double(min(max(failures, 1) - 1, 64))
        return min(initial * pow(multiplier, exponent), maximum)
    }

    /// `nominal` spread uniformly over ±`jitter` of itself, still capped at `maximum`. One draw mapped
    /// straight to [0, 1): unlike `Double.random(in:)` this never draws twice, so an injected source
    /// fully determines the delay.
    static func jittered(
        _ nominal: TimeInterval, jitter: Double, maximum: TimeInterval, random: inout some RandomNumberGenerator
    ) -> TimeInterval {
        let unit = Double(random.next() >> 11) / Double(1 << 53 as UInt64)
        return min(nominal * (1 - jitter + 2 * jitter * unit), maximum)
    }
}
