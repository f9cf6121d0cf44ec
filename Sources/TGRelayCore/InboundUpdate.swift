import Foundation

/// What the relay needs to know of one Telegram `Update` to store it: its id, its kind, the chat it
/// belongs to (per-chat push order) and whether it shows the bot allowed back into a chat.
public struct InboundUpdate: Sendable, Equatable {
    public var updateID: Int64
    /// The update's one field besides `update_id`: "message", "callback_query", "my_chat_member", …
    public var type: String
    /// The chat id as text, nil for updates without a chat (inline queries, polls).
    public var chat: String?
    /// A `my_chat_member` update in which the bot goes from kicked/left to member or administrator: the
    /// user unblocked it or a group re-added it, so outbound messages to the chat may flow again.
    public var reactivatesChat: Bool
    /// The update as canonical JSON text: what consumers receive.
    public var json: String

    public enum ParseError: Error, Sendable, Equatable, CustomStringConvertible {
        case notAnObject
        case missingUpdateID
        case missingContent

        public var description: String {
            switch self {
            case .notAnObject: "an update must be a JSON object"
            case .missingUpdateID: "update_id must be a positive integer"
            case .missingContent: "an update needs one field besides update_id"
            }
        }
    }

    public init(updateID: Int64, type: String, chat: String?, reactivatesChat: Bool, json: String) {
        self.updateID = updateID
        self.type = type
        self.chat = chat
        self.reactivatesChat = reactivatesChat
        self.json = json
    }

    public init(_ value: JSONValue) throws(ParseError) {
        guard let members = value.objectValue else { throw .notAnObject }
        guard let id = members["update_id"]?.int64Value, id > 0 else { throw .missingUpdateID }
        guard let type = members.keys.filter({ $0 != "update_id" }).min(), let content = members[type] else {
            throw .missingContent
        }
        self.init(
            updateID: id, type: type, chat: Self.chat(of: content), reactivatesChat: type == "my_chat_member" && Self.isReturn(content),
            json: CanonicalJSON.serialize(value))
    }

    /// `chat.id` of the content, or of the message a callback query came from.
    private static func chat(of content: JSONValue) -> String? {
        let id = content["chat"]?["id"] ?? content["message"]?["chat"]?["id"]
        if case .number(let number) = id { return number.text }
        return nil
    }

    private static let absent: Set<String> = ["kicked", "left"]
    private static let present: Set<String> = ["member", "administrator", "creator"]

    private static func isReturn(_ content: JSONValue) -> Bool {
        guard let old = content["old_chat_member"]?["status"]?.stringValue,
            let new = content["new_chat_member"]?["status"]?.stringValue
        else { return false }
        return absent.contains(old) && present.contains(new)
    }
}

/// How the long-poll loop waits after a failed `getUpdates`: exponential from 1 s, doubling, capped, with
/// jitter; a 409 conflict (another poller, or a webhook set behind the relay's back) waits at least
/// `conflictMinimum`, so two pollers never fight in a tight loop.
public struct PollBackoff: Sendable, Equatable {
    public var initialDelay: TimeInterval
    public var multiplier: Double
    public var maximumDelay: TimeInterval
    public var jitter: Double
    public var conflictMinimum: TimeInterval

    public init(
        initialDelay: TimeInterval = 1, multiplier: Double = 2, maximumDelay: TimeInterval = 60, jitter: Double = 0.2,
        conflictMinimum: TimeInterval = 5
    ) {
        self.initialDelay = initialDelay
        self.multiplier = multiplier
        self.maximumDelay = maximumDelay
        self.jitter = jitter
        self.conflictMinimum = conflictMinimum
    }

    /// The wait after the `failures`-th consecutive failure (1-based).
    public func delay(afterFailures failures: Int, conflict: Bool, random: inout some RandomNumberGenerator) -> TimeInterval {
        let nominal = ExponentialBackoff.nominal(after: failures, initial: initialDelay, multiplier: multiplier, maximum: maximumDelay)
        let jittered = ExponentialBackoff.jittered(nominal, jitter: jitter, maximum: maximumDelay, random: &random)
        return conflict ? max(jittered, min(conflictMinimum, maximumDelay)) : jittered
    }
}
