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
public enum LedgerHash {
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
    public static func keyedChat(_ chat: String, key: [UInt8]?) -> String {
        guard let key else { return chat }
        return "hmac:" + Hex.encode(HMAC<SHA256>.authenticationCode(for: Array(chat.utf8), using: SymmetricKey(data: key)))
    }

    /// The response body as the ledger keeps it when `ledgerChatKey` is set, so that it names no chat or
    /// user either: every chat or user object Telegram echoed (an object with an `id` and a `first_name`,
    /// `title` or `username`: the message's chat, the replied-to sender…) becomes its keyed id with its
    /// `type` or `is_bot`, and `migrate_to_chat_id` its keyed form. Everything else stays as answered; a
    /// body that is not JSON is kept whole.
    static func keyedBody(_ body: String?, key: [UInt8]?) -> String? {
        guard let key, let body, let value = try? JSONParser.parse(body) else { return body }
        return CanonicalJSON.serialize(keyedIdentities(value, key: key))
    }

    private static func keyedIdentities(_ value: JSONValue, key: [UInt8]) -> JSONValue {
        switch value {
        case .array(let elements):
            return .array(elements.map { keyedIdentities($0, key: key) })
        case .object(let members):
            if case .number(let id)? = members["id"], ["first_name", "title", "username"].contains(where: { members[$0] != nil }) {
                var kept: [String: JSONValue] = ["id": .string(keyedChat(id.text, key: key))]
                for name in ["type", "is_bot"] { kept[name] = members[name] }
                return .object(kept)
            }
            var keyed = members.mapValues { keyedIdentities($0, key: key) }
            if case .number(let chat)? = members["migrate_to_chat_id"] {
                keyed["migrate_to_chat_id"] = .string(keyedChat(chat.text, key: key))
            }
            return .object(keyed)
        default:
            return value
        }
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
