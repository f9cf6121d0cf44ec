/// What the relay needs to know about one send method; the values are generated from the spec
/// (BotAPIMethods.swift).
public struct SendMethodSpec: Sendable, Equatable {
    /// False for methods that may address an inline message instead (`edit*`) or a user (`sendGift`).
    public var chatIDRequired: Bool
    /// The target may be given as `user_id` instead of `chat_id`.
    public var userIDIsTarget: Bool
    /// Limits of the `text` parameter, when the method has one.
    public var text: TextLimit?
    /// Limits of the `caption` parameter, when the method has one.
    public var caption: TextLimit?
    /// Limits of the captions inside a `media` array (sendMediaGroup).
    public var mediaCaption: TextLimit?

    public init(
        chatIDRequired: Bool, userIDIsTarget: Bool, text: TextLimit?, caption: TextLimit?, mediaCaption: TextLimit?
    ) {
        self.chatIDRequired = chatIDRequired
        self.userIDIsTarget = userIDIsTarget
        self.text = text
        self.caption = caption
        self.mediaCaption = mediaCaption
    }
}

/// A text parameter's length rule, in characters as Telegram counts them after entity parsing.
public struct TextLimit: Sendable, Equatable {
    public var required: Bool
    public var minimum: Int
    public var maximum: Int

    public init(required: Bool, minimum: Int, maximum: Int) {
        self.required = required
        self.minimum = minimum
        self.maximum = maximum
    }
}

extension BotAPIMethods {
    private static let byLowercasedName: [String: String] = Dictionary(
        uniqueKeysWithValues: all.map { ($0.lowercased(), $0) })

    /// The spec's spelling of a method name. Telegram matches method names case-insensitively, so
    /// bot libraries that send `sendmessage` reach the same method.
    public static func canonicalName(_ name: String) -> String? {
        all.contains(name) ? name : byLowercasedName[name.lowercased()]
    }

    public static func isSendMethod(_ name: String) -> Bool {
        canonicalName(name).map { sendMethods[$0] != nil } ?? false
    }
}
