/// `parse_mode=MarkdownV2` and legacy `Markdown`, strict where Telegram is strict: in V2 every
/// reserved character outside markup must be escaped, and every entity must be closed.
/// Error texts and UTF-8 byte offsets follow tdlib.
enum MarkdownParser {
    private static let reservedV2: Set<Character> = ["_", "*", "[", "]", "(", ")", "~", "`", ">", "#", "+", "-", "=", "|", "{", "}", ".", "!"]

    private struct Open {
        var marker: String
        var byteOffset: Int
        var utf16Offset: Int
    }

    private static let names: [String: (type: String, title: String)] = [
        "*": ("bold", "Bold"), "_": ("italic", "Italic"), "__": ("underline", "Underline"),
        "~": ("strikethrough", "Strikethrough"), "||": ("spoiler", "Spoiler"), "`": ("code", "Code"),
        "```": ("pre", "Pre"), "[": ("text_link", "TextUrl"),
    ]

    static func parse(_ input: String, v2: Bool) -> Result<FormattedText, ParseFailure> {
        let chars = Array(input)
        var byteOffsets: [Int] = []
        var offset = 0
        for c in chars {
            byteOffsets.append(offset)
            offset += c.utf8.count
        }
        var output = ""
        var utf16 = 0
        var stack: [Open] = []
        var entities: [FakeJSON] = []
        var i = 0

        func append(_ c: Character) {
            output.append(c)
            utf16 += c.utf16.count
        }
        func toggle(_ marker: String, at index: Int) {
            if let pos = stack.lastIndex(where: { $0.marker == marker }) {
                let open = stack.remove(at: pos)
                if utf16 > open.utf16Offset, let info = names[marker] {
                    entities.append([
                        "type": .string(info.type), "offset": .int(Int64(open.utf16Offset)),
                        "length": .int(Int64(utf16 - open.utf16Offset)),
                    ])
                }
            } else {
                stack.append(Open(marker: marker, byteOffset: byteOffsets[index], utf16Offset: utf16))
            }
        }
        func peek(_ k: Int) -> Character? { i + k < chars.count ? chars[i + k] : nil }

        while i < chars.count {
            let c = chars[i]
            let inCode = stack.last.map { $0.marker == "`" || $0.marker == "```" } ?? false
            if c == "\\", v2 || !inCode, let next = peek(1), v2 || "_*`[".contains(next) {
                append(next)
                i += 2
                continue
            }
            if inCode, c != "`" {
                append(c)
                i += 1
                continue
            }
            switch c {
            case "`":
                if peek(1) == "`", peek(2) == "`" {
                    toggle("```", at: i)
                    i += 3
                } else {
                    toggle("`", at: i)
                    i += 1
                }
            case "*":
                toggle("*", at: i)
                i += 1
            case "_":
                if v2, peek(1) == "_" {
                    toggle("__", at: i)
                    i += 2
                } else {
                    toggle("_", at: i)
                    i += 1
                }
            case "~" where v2:
                toggle("~", at: i)
                i += 1
            case "|" where v2 && peek(1) == "|":
                toggle("||", at: i)
                i += 2
            case "[":
                stack.append(Open(marker: "[", byteOffset: byteOffsets[i], utf16Offset: utf16))
                i += 1
            case "]" where stack.last?.marker == "[":
                let open = stack.removeLast()
                i += 1
                var url = ""
                if peek(0) == "(" {
                    i += 1
                    while i < chars.count, chars[i] != ")" {
                        if chars[i] == "\\", let n = peek(1) { url.append(n); i += 2 } else { url.append(chars[i]); i += 1 }
                    }
                    if i >= chars.count {
                        return .failure(.init("Can't find end of a URL at byte offset \(open.byteOffset)"))
                    }
                    i += 1
                }
                if utf16 > open.utf16Offset, !url.isEmpty {
                    entities.append([
                        "type": "text_link", "offset": .int(Int64(open.utf16Offset)),
                        "length": .int(Int64(utf16 - open.utf16Offset)), "url": .string(url),
                    ])
                }
            case ">" where v2 && (i == 0 || chars[i - 1] == "\n"):
                // A quote marker at the start of a line is markup, not a reserved character.
                i += 1
            default:
                if v2, reservedV2.contains(c) {
                    return .failure(
                        .init("Character '\(c)' is reserved and must be escaped with the preceding '\\'"))
                }
                append(c)
                i += 1
            }
        }
        if let open = stack.last {
            if !v2 {
                return .failure(.init("Can't find end of the entity starting at byte offset \(open.byteOffset)"))
            }
            let title = names[open.marker]?.title ?? "Bold"
            let article = open.marker == "[" ? "a " : ""
            return .failure(.init("Can't find end of \(article)\(title) entity at byte offset \(open.byteOffset)"))
        }
        entities.sort { ($0["offset"]?.intValue ?? 0) < ($1["offset"]?.intValue ?? 0) }
        return .success(FormattedText(text: output, entities: entities))
    }
}
