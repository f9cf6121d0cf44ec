/// Bot API parameters arrive as JSON values (a JSON body) or as text (query strings, forms, multipart
/// fields). The relay keeps them as JSON values, so that validation sees the structure and a stored
/// payload does not depend on which encoding a library happened to use.
public enum BotAPIParameters {
    /// Parameters Telegram parses as JSON when they arrive as text.
    public static let jsonParameters: Set<String> = [
        "reply_markup", "entities", "caption_entities", "allowed_updates", "link_preview_options",
        "reply_parameters", "media", "message_ids", "results", "commands", "permissions", "options",
        "suggested_post_parameters", "input_message_content", "prices", "checklist", "rights",
    ]

    /// Flags the relay itself reads (paid broadcasts are paced at the paid rate).
    static let relayBooleans: Set<String> = ["allow_paid_broadcast"]

    /// A parameter that arrived as text. Anything else stays text: Telegram accepts text for every
    /// scalar parameter, in JSON bodies too, so re-sending it as a JSON string changes nothing.
    public static func fromText(name: String, value: String) -> JSONValue {
        if jsonParameters.contains(name), let first = value.first, first == "{" || first == "[",
            let parsed = try? JSONParser.parse(Array(value.utf8))
        {
            return parsed
        }
        if relayBooleans.contains(name) {
            switch value.lowercased() {
            case "true", "1": return .bool(true)
            case "false", "0": return .bool(false)
            default: break
            }
        }
        return .string(value)
    }
}
