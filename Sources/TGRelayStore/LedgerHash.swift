import Crypto
import Foundation
import TGRelayCore

/// The ledger's hash chain, shared by every driver so that a ledger verifies the same wherever it is.
///
/// `hash = lowercase hex SHA-256(encoding)`, where `encoding` is the concatenation, in this order, of
/// the fields: prevHash, seq, at, messageID, bot, chat, method, payloadHash, endpoint, httpStatus, ok,
/// errorCode, description, retryAfter, telegramMessageIDs, durationMs, responseBody, outcome, ambiguous.
///
/// Each field is a netstring over its UTF-8 text, `<byte count>:<bytes>,`, and an absent value is `~,`
/// (a netstring starts with a digit, so the two cannot be confused; lengths make the whole unambiguous
/// whatever the fields contain). Texts: integers in decimal with a leading `-` when negative; booleans
/// `1`/`0`; `at` as ISO-8601 UTC with milliseconds (`2023-11-14T22:13:20.123Z`); message ids joined by
/// `,`; the duration as whole microseconds in decimal (the precision the ledger keeps).
///
/// The first row's prevHash is the anchor hash: 64 zeros for a ledger never pruned, else the hash of the
/// last pruned row.
enum LedgerHash {
    static let genesis = String(repeating: "0", count: 64)

    static func compute(_ entry: LedgerEntry) -> String {
        Hex.encode(SHA256.hash(data: encoding(entry)))
    }

    static func encoding(_ e: LedgerEntry) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256 + (e.responseBody?.utf8.count ?? 0) + (e.description?.utf8.count ?? 0))
        func field(_ text: String?) {
            guard let text else {
                out.append(contentsOf: "~,".utf8)
                return
            }
            out.append(contentsOf: "\(text.utf8.count):".utf8)
            out.append(contentsOf: text.utf8)
            out.append(UInt8(ascii: ","))
        }
        field(e.prevHash)
        field(String(e.seq))
        field(UTCTimestamp.string(millis: e.at.storeMillis))
        field(String(e.messageID))
        field(e.bot)
        field(e.chat)
        field(e.method)
        field(e.payloadHash)
        field(e.endpoint)
        field(e.httpStatus.map { String($0) })
        field(e.ok ? "1" : "0")
        field(e.errorCode.map { String($0) })
        field(e.description)
        field(e.retryAfter.map { String($0) })
        field(TelegramIDs.encode(e.telegramMessageIDs))
        field(String(durationMicros(e.durationMs)))
        field(e.responseBody)
        field(e.outcome)
        field(e.ambiguous ? "1" : "0")
        return out
    }

    static func durationMicros(_ ms: Double) -> Int64 {
        Int64((ms * 1000).rounded())
    }

    /// The ledger's form of a chat id when `ledgerChatKey` is set: `hmac:` + hex HMAC-SHA256(key, chat).
    static func keyedChat(_ chat: String, key: [UInt8]?) -> String {
        guard let key else { return chat }
        return "hmac:" + Hex.encode(HMAC<SHA256>.authenticationCode(for: Array(chat.utf8), using: SymmetricKey(data: key)))
    }
}

/// Telegram message ids as stored: decimal, joined by commas, empty for none.
enum TelegramIDs {
    static func encode(_ ids: [Int64]) -> String {
        ids.map { String($0) }.joined(separator: ",")
    }

    static func decode(_ text: String) -> [Int64] {
        text.split(separator: ",").compactMap { Int64($0) }
    }
}
