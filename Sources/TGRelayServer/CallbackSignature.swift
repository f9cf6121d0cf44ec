import Crypto
import Foundation
import TGRelayCore

/// The signature of a status callback: `X-Tgrelay-Signature: v1=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`
/// with `X-Tgrelay-Timestamp: <unix seconds>`. Signing the timestamp with the body lets a receiver refuse
/// replays of an old callback (reject timestamps far from its clock); `v1=` leaves room for another scheme.
public enum CallbackSignature {
    public static let timestampHeader = "X-Tgrelay-Timestamp"
    public static let signatureHeader = "X-Tgrelay-Signature"
    public static let eventHeader = "X-Tgrelay-Event"

    /// The header value, `v1=` and 64 lowercase hex digits.
    public static func sign(secret: [UInt8], timestamp: Int64, body: [UInt8]) -> String {
        var message = Array("\(timestamp).".utf8)
        message += body
        let mac = HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: secret))
        return "v1=" + Hex.encode(mac)
    }

    /// Whether `signature` is the header value for this timestamp and body; compares in constant time.
    public static func verify(_ signature: String, secret: [UInt8], timestamp: Int64, body: [UInt8]) -> Bool {
        let expected = Array(sign(secret: secret, timestamp: timestamp, body: body).utf8)
        let given = Array(signature.utf8)
        guard given.count == expected.count else { return false }
        return zip(given, expected).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }
}
