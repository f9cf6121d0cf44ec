import Foundation
import Synchronization

/// The simulator's notion of time: seconds since `start()` on a monotonic clock, plus an offset
/// tests can advance (to expire 24 h update retention or rate-limit windows without waiting).
final class SimClock: Sendable {
    private let origin = ContinuousClock.now
    private let offset = Mutex<Double>(0)
    let startDate: Date

    init(startDate: Date) {
        self.startDate = startDate
    }

    /// Seconds since the simulator was created, including advanced time.
    func now() -> Double {
        (ContinuousClock.now - origin).seconds + offset.withLock { $0 }
    }

    func advance(by seconds: Double) {
        offset.withLock { $0 += max(0, seconds) }
    }

    func date(at simTime: Double) -> Date {
        startDate.addingTimeInterval(simTime)
    }

    func unixTime(at simTime: Double) -> Int64 {
        Int64(date(at: simTime).timeIntervalSince1970)
    }
}

/// SplitMix64: small, fast, and fully determined by the seed (no system randomness anywhere).
struct SeededRandom: RandomNumberGenerator, Sendable {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    mutating func unit() -> Double {
        Double(next() >> 11) / Double(1 << 53)
    }

    /// Standard normal sample (Box–Muller).
    mutating func normal() -> Double {
        let u1 = max(unit(), 1e-12)
        let u2 = unit()
        return (-2 * Foundation.log(u1)).squareRoot() * cos(2 * .pi * u2)
    }

    /// A value derived from the seed and a key without consuming the stream, so that results such
    /// as a bot's first update_id do not depend on the order in which bots show up.
    static func derived(seed: UInt64, key: UInt64) -> UInt64 {
        var r = SeededRandom(seed: seed ^ (key &* 0xD6E8_FEB8_6659_FD93))
        return r.next()
    }
}
