import Foundation

/// A chat as a client names it: a numeric id or an @username.
public struct FakeChatRef: Sendable, Hashable, CustomStringConvertible {
    public var id: Int64?
    public var username: String?

    /// Parses a `chat_id` parameter; nil when it cannot name any chat.
    public init?(parameter: String) {
        let text = parameter.trimmingCharacters(in: .whitespaces)
        if text.hasPrefix("@") {
            let name = text.dropFirst()
            guard (1...32).contains(name.count), name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") })
            else { return nil }
            username = String(name)
        } else if let value = Int64(text) {
            id = value
        } else {
            return nil
        }
    }

    public init(id: Int64) {
        self.id = id
    }

    /// Canonical spelling used for matching and recording: "42", "-100123" or "@name" (lowercased).
    public var key: String {
        if let id { return String(id) }
        return "@" + (username ?? "").lowercased()
    }

    public var description: String { key }

    /// Private chats have positive ids; groups, supergroups and channels negative ids or usernames.
    public var isPrivate: Bool { (id ?? -1) > 0 }

    /// The numeric id; public channels named by @username get a stable id derived from the name.
    public var resolvedID: Int64 {
        if let id { return id }
        let hash = fnv1a(Array((username ?? "").lowercased().utf8))
        return -1_001_000_000_000 - Int64(hash % 899_999_999)
    }

    var type: String {
        if username != nil { return "channel" }
        let id = resolvedID
        if id > 0 { return "private" }
        return id <= -1_000_000_000_000 ? "supergroup" : "group"
    }

    var json: FakeJSON {
        let id = resolvedID
        switch type {
        case "private":
            return ["id": .int(id), "type": "private", "first_name": .string("User \(id)"), "username": .string("user\(id)")]
        case "channel":
            return ["id": .int(id), "type": "channel", "title": .string("Channel \(username ?? "")"), "username": .string(username ?? "")]
        case "supergroup":
            return ["id": .int(id), "type": "supergroup", "title": .string("Supergroup \(-id)")]
        default:
            return ["id": .int(id), "type": "group", "title": .string("Group \(-id)"), "all_members_are_administrators": true]
        }
    }
}

/// Messages the bots have sent, per (bot, chat): ids increase by one per chat, and edits and
/// deletes look messages up here.
struct ChatBook {
    struct Key: Hashable {
        var bot: Int64
        var chat: Int64
    }

    private var nextIDs: [Key: Int64] = [:]
    private var messages: [Key: [Int64: FakeJSON]] = [:]

    mutating func nextMessageID(_ key: Key) -> Int64 {
        let id = nextIDs[key, default: 1]
        nextIDs[key] = id + 1
        return id
    }

    mutating func store(_ message: FakeJSON, id: Int64, key: Key) {
        messages[key, default: [:]][id] = message
    }

    func message(_ id: Int64, key: Key) -> FakeJSON? {
        messages[key]?[id]
    }

    @discardableResult
    mutating func delete(_ id: Int64, key: Key) -> Bool {
        messages[key]?.removeValue(forKey: id) != nil
    }
}

/// Builds Bot API objects that look like Telegram's.
enum MessageFactory {
    static func botUser(_ bot: Int64) -> FakeJSON {
        ["id": .int(bot), "is_bot": true, "first_name": .string("Fake Bot \(bot)"), "username": .string("fake\(bot)_bot")]
    }

    static func getMe(_ bot: Int64) -> FakeJSON {
        guard case .object(var o) = botUser(bot) else { return botUser(bot) }
        o["can_join_groups"] = true
        o["can_read_all_group_messages"] = false
        o["supports_inline_queries"] = false
        o["can_connect_to_business"] = false
        o["has_main_web_app"] = false
        return .object(o)
    }

    /// A message from the bot; `content` holds text/photo/document/caption… keys.
    static func message(id: Int64, bot: Int64, chat: FakeChatRef, date: Int64, content: [String: FakeJSON]) -> FakeJSON {
        var o = content
        o["message_id"] = .int(id)
        o["chat"] = chat.json
        o["date"] = .int(date)
        if chat.type == "channel" {
            o["sender_chat"] = chat.json
        } else {
            o["from"] = botUser(bot)
        }
        return .object(o)
    }

    static func textContent(_ text: FormattedText) -> [String: FakeJSON] {
        var o: [String: FakeJSON] = ["text": .string(text.text)]
        if !text.entities.isEmpty { o["entities"] = .array(text.entities) }
        return o
    }

    static func captionContent(_ caption: FormattedText?) -> [String: FakeJSON] {
        guard let caption else { return [:] }
        var o: [String: FakeJSON] = ["caption": .string(caption.text)]
        if !caption.entities.isEmpty { o["caption_entities"] = .array(caption.entities) }
        return o
    }

    /// A file_id / file_unique_id pair derived from what identifies the file.
    static func fileIDs(prefix: String, digest: UInt64) -> (id: String, unique: String) {
        let hex = String(digest, radix: 16)
        return ("\(prefix)ACAgIAAxkBAAI" + hex + "AAHfake", "AQAD" + String(hex.prefix(10)))
    }

    static func photoSizes(digest: UInt64, size: Int) -> FakeJSON {
        let dims = [(90, 67), (320, 240), (800, 600)]
        return .array(
            dims.enumerated().map { index, dim in
                let ids = fileIDs(prefix: "Ag", digest: digest &+ UInt64(index))
                return [
                    "file_id": .string(ids.id), "file_unique_id": .string(ids.unique),
                    "file_size": .int(Int64(max(1, size * (index + 1) / 3))),
                    "width": .int(Int64(dim.0)), "height": .int(Int64(dim.1)),
                ]
            })
    }

    static func document(digest: UInt64, size: Int, fileName: String?, mimeType: String?) -> FakeJSON {
        let ids = fileIDs(prefix: "BQ", digest: digest)
        var o: [String: FakeJSON] = [
            "file_id": .string(ids.id), "file_unique_id": .string(ids.unique), "file_size": .int(Int64(size)),
        ]
        if let fileName { o["file_name"] = .string(fileName) }
        if let mimeType { o["mime_type"] = .string(mimeType) }
        return .object(o)
    }
}
