import Foundation
import Testing
@testable import TGRelayCore

struct UTCTimestampTests {
    @Test func formatsKnownInstants() {
        #expect(UTCTimestamp.string(Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00.000Z")
        #expect(UTCTimestamp.string(Date(timeIntervalSince1970: 1_795_350_180.123)) == "2026-11-22T12:23:00.123Z")
        #expect(UTCTimestamp.string(Date(timeIntervalSince1970: 951_782_400)) == "2000-02-29T00:00:00.000Z")
        #expect(UTCTimestamp.string(Date(timeIntervalSince1970: -0.001)) == "1969-12-31T23:59:59.999Z")
    }

    @Test func roundsToTheNearestMillisecond() {
        #expect(UTCTimestamp.string(Date(timeIntervalSince1970: 10.0004)) == "1970-01-01T00:00:10.000Z")
        #expect(UTCTimestamp.string(Date(timeIntervalSince1970: 10.0006)) == "1970-01-01T00:00:10.001Z")
        #expect(UTCTimestamp.string(Date(timeIntervalSince1970: 59.9996)) == "1970-01-01T00:01:00.000Z")
    }

    /// The same text as Foundation's ISO 8601 style (with half a millisecond added, as it truncates),
    /// over 200 years of random instants.
    @Test func agreesWithFoundation() {
        let style = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<20_000 {
            let millis = Int64.random(in: -2_208_988_800_000...4_102_444_800_000, using: &generator)
            let date = Date(timeIntervalSince1970: Double(millis) / 1000)
            #expect(UTCTimestamp.string(date) == style.format(date.addingTimeInterval(0.0005)), "\(millis)")
        }
    }
}
