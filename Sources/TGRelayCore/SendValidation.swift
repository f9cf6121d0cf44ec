import Foundation

/// Why a send request was refused at accept time, with a machine-readable code and the offending
/// field, so that callers learn at once what Telegram would only say after queueing.
public struct SendValidationError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable, Equatable, CaseIterable {
        case unknownMethod = "unknown_method"
        /// A real Bot API method that the outbox does not relay (e.g. getMe).
        case notASendMethod = "not_a_send_method"
        case missingField = "missing_field"
        case invalidChatID = "invalid_chat_id"
        /// A field of the wrong JSON type.
        case invalidField = "invalid_field"
        case emptyText = "empty_text"
        case textTooLong = "text_too_long"
        case captionTooLong = "caption_too_long"
    }

    public var code: Code
    public var message: String
    /// The parameter at fault ("chat_id", "text", "media[2].caption"…), or "method".
    public var field: String

    public init(code: Code, message: String, field: String) {
        self.code = code
        self.message = message
        self.field = field
    }

    public var description: String { "\(code.rawValue) (\(field)): \(message)" }
}

/// A send request that passed validation.
public struct ValidatedSend: Sendable, Equatable {
    /// The method as the spec spells it.
    public var method: String
    public var spec: SendMethodSpec
    /// The canonical target chat (`ChatReference`): the lane's chat.
    public var chat: String
    /// `allow_paid_broadcast: true`: limited by the paid rate when the bot has it.
    public var paidBroadcast: Bool
}

/// Checks a send request before it is accepted into the outbox.
///
/// Lengths are counted in UTF-16 code units, as Telegram does (its entity offsets are UTF-16 too),
/// so an emoji outside the BMP counts 2. With a `parse_mode`, markup is removed by Telegram before
/// it counts, which the relay cannot reproduce exactly: the upper limits are then left to Telegram.
/// Text that is only whitespace is empty, because Telegram strips it.
public enum SendValidation {
    public static func validate(method: String, params: [String: JSONValue]) throws(SendValidationError) -> ValidatedSend {
        guard let name = BotAPIMethods.canonicalName(method) else {
            throw SendValidationError(code: .unknownMethod, message: "unknown Bot API method \"\(method)\"", field: "method")
        }
        guard let spec = BotAPIMethods.sendMethods[name] else {
            throw SendValidationError(
                code: .notASendMethod, message: "\(name) is not a send method the outbox relays", field: "method")
        }
        let chat = try targetChat(spec: spec, params: params)
        let parsed = params["parse_mode"] != nil || params["text_parse_mode"] != nil
        if let limit = spec.text {
            try check(params["text"], field: "text", limit: limit, markupParsed: parsed, tooLong: .textTooLong)
        }
        if let limit = spec.caption {
            try check(params["caption"], field: "caption", limit: limit, markupParsed: parsed, tooLong: .captionTooLong)
        }
        if let limit = spec.mediaCaption, let media = params["media"]?.arrayValue {
            for (position, item) in media.enumerated() {
                try check(
                    item["caption"], field: "media[\(position)].caption", limit: limit,
                    markupParsed: item["parse_mode"] != nil, tooLong: .captionTooLong)
            }
        }
        let paid = params["allow_paid_broadcast"]?.boolValue ?? false
        return ValidatedSend(method: name, spec: spec, chat: chat, paidBroadcast: paid)
    }

    /// The canonical chat a send addresses: `chat_id`, or `user_id` where the method allows it.
    public static func targetChat(spec: SendMethodSpec, params: [String: JSONValue]) throws(SendValidationError) -> String {
        let (field, value): (String, JSONValue?) = if params["chat_id"] == nil && spec.userIDIsTarget {
            ("user_id", params["user_id"])
        } else {
            ("chat_id", params["chat_id"])
        }
        guard let value, value != .null else {
            // Optional chat_id means an inline message (edit*): it belongs to no chat, so no lane.
            throw SendValidationError(code: .missingField, message: "\(field) is required", field: field)
        }
        guard let chat = ChatReference.canonical(value) else {
            throw SendValidationError(
                code: .invalidChatID, message: "\(field) must be a non-zero integer or \"@username\"", field: field)
        }
        return chat
    }

    /// Telegram's length: UTF-16 code units.
    public static func telegramLength(_ text: String) -> Int {
        text.utf16.count
    }

    private static func check(
        _ value: JSONValue?, field: String, limit: TextLimit, markupParsed: Bool, tooLong: SendValidationError.Code
    ) throws(SendValidationError) {
        guard let value, value != .null else {
            if limit.required {
                throw SendValidationError(code: .missingField, message: "\(field) is required", field: field)
            }
            return
        }
        guard let text = value.stringValue else {
            throw SendValidationError(code: .invalidField, message: "\(field) must be a string", field: field)
        }
        // Unicode White_Space is the set `.whitespacesAndNewlines` trims, without bridging to NSString.
        if limit.minimum > 0 && text.unicodeScalars.allSatisfy(\.properties.isWhitespace) {
            throw SendValidationError(code: .emptyText, message: "\(field) is empty", field: field)
        }
        let length = telegramLength(text)
        if !markupParsed && length > limit.maximum {
            throw SendValidationError(
                code: tooLong, message: "\(field) is \(length) characters, at most \(limit.maximum) allowed",
                field: field)
        }
    }
}
