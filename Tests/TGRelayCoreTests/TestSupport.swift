import Foundation
import TGRelayCore

/// SplitMix64: a tiny seeded generator so every test run draws the same numbers.
struct SeededRandom: RandomNumberGenerator {
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
}

/// Always draws the same value: pins jitter to its middle (0.5), low (0) or high end (≈1).
struct FixedRandom: RandomNumberGenerator {
    var value: UInt64

    static let middle = FixedRandom(value: UInt64.max / 2)
    static let lowest = FixedRandom(value: 0)
    static let highest = FixedRandom(value: UInt64.max)

    mutating func next() -> UInt64 { value }
}

/// A fixed instant all tests count from.
let t0 = Date(timeIntervalSince1970: 1_750_000_000)

func at(_ seconds: TimeInterval) -> Date {
    t0.addingTimeInterval(seconds)
}

func makeMessage(
    chat: String = "42", attempts: Int = 0, deadline: Date? = nil, atMostOnce: Bool = false,
    lastError: String? = nil, ambiguous: Bool = false, notBefore: Date? = nil
) -> OutboundMessage {
    OutboundMessage(
        id: 7, bot: "bot1", chat: chat, method: "sendMessage", params: #"{"chat_id":42,"text":"hi"}"#,
        payloadHash: "00", status: .sending, attempts: attempts, notBefore: notBefore, deadline: deadline,
        atMostOnce: atMostOnce, createdAt: t0, updatedAt: t0, lastError: lastError, ambiguous: ambiguous)
}
