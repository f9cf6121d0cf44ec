/// Text and caption checks with Telegram's descriptions.
///
/// Lengths are counted in UTF-16 code units of the text *after* entity parsing — the unit the Bot
/// API uses for entity offsets, and what Telegram's 4096/1024 limits count: "é" is 1, "😀" is 2.
enum TextValidation {
    static let maxTextLength = 4096
    static let maxCaptionLength = 1024

    static func length(_ text: String) -> Int { text.utf16.count }

    /// Applies `parse_mode` (or explicit `entities`) and returns the plain text with its entities.
    static func format(_ raw: String, parseMode: String?, entities: FakeJSON?) throws(BotAPIError) -> FormattedText {
        let mode = (parseMode ?? "").trimmingCharacters(in: .whitespaces).lowercased()
        let result: Result<FormattedText, ParseFailure>
        switch mode {
        case "":
            return FormattedText(text: raw, entities: entities?.arrayValue ?? [])
        case "html":
            result = HTMLParser.parse(raw)
        case "markdownv2":
            result = MarkdownParser.parse(raw, v2: true)
        case "markdown":
            result = MarkdownParser.parse(raw, v2: false)
        default:
            throw .badRequest("unsupported parse_mode")
        }
        switch result {
        case .success(let formatted): return formatted
        case .failure(let failure): throw .badRequest("can't parse entities: \(failure.message)")
        }
    }

    /// A message text: required, non-blank after parsing, at most 4096.
    static func messageText(_ params: BotRequestParams) throws(BotAPIError) -> FormattedText {
        guard let raw = params.string("text"), !raw.isEmpty else { throw .textEmpty }
        let formatted = try format(raw, parseMode: params.string("parse_mode"), entities: try params.json("entities"))
        if formatted.text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { throw .textEmpty }
        if length(formatted.text) > maxTextLength { throw .textTooLong }
        return formatted
    }

    /// An optional caption: at most 1024 after parsing.
    static func caption(_ params: BotRequestParams) throws(BotAPIError) -> FormattedText? {
        guard let raw = params.string("caption"), !raw.isEmpty else { return nil }
        let formatted = try format(
            raw, parseMode: params.string("parse_mode"), entities: try params.json("caption_entities"))
        if length(formatted.text) > maxCaptionLength { throw .captionTooLong }
        return formatted.text.isEmpty ? nil : formatted
    }
}
