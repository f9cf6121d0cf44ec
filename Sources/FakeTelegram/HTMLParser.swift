/// Telegram's `parse_mode=HTML`, following the rules (and error texts) of tdlib's parser:
/// only the documented tags, attributes must be `name="value"`, tags must nest properly,
/// byte offsets in errors are UTF-8 offsets into the original text.
/// Entity offsets and lengths are UTF-16 code units of the resulting plain text, as in the Bot API.
enum HTMLParser {
    private static let entityTypes: [String: String] = [
        "b": "bold", "strong": "bold", "i": "italic", "em": "italic", "u": "underline", "ins": "underline",
        "s": "strikethrough", "strike": "strikethrough", "del": "strikethrough", "tg-spoiler": "spoiler",
        "span": "spoiler", "a": "text_link", "code": "code", "pre": "pre", "blockquote": "blockquote",
        "tg-emoji": "custom_emoji",
    ]

    private struct OpenTag {
        var name: String
        var offset: Int  // UTF-16 offset in the output
        var attributes: [String: String]
    }

    /// Returns the plain text and its entities, or the tail of `can't parse entities: …`.
    static func parse(_ input: String) -> Result<FormattedText, ParseFailure> {
        let bytes = Array(input.utf8)
        var output: [UInt8] = []
        var utf16Length = 0
        var stack: [OpenTag] = []
        var entities: [FakeJSON] = []
        var i = 0

        func emit(_ scalarBytes: some Collection<UInt8>) {
            output.append(contentsOf: scalarBytes)
            utf16Length += String(decoding: scalarBytes, as: UTF8.self).utf16.count
        }

        while i < bytes.count {
            let c = bytes[i]
            if c == UInt8(ascii: "&") {
                let (decoded, consumed) = decodeEntity(bytes, at: i)
                emit(Array(decoded.utf8))
                i += consumed
                continue
            }
            guard c == UInt8(ascii: "<") else {
                let len = utf8Length(leading: c)
                emit(bytes[i..<min(i + len, bytes.count)])
                i += len
                continue
            }
            let tagStart = i
            i += 1
            if i >= bytes.count { return .failure(.init("Unclosed start tag at byte offset \(tagStart)")) }
            let isEnd = bytes[i] == UInt8(ascii: "/")
            if isEnd { i += 1 }
            let nameStart = i
            while i < bytes.count, isTagNameByte(bytes[i]) { i += 1 }
            let name = String(decoding: bytes[nameStart..<i], as: UTF8.self).lowercased()
            if isEnd {
                guard let open = stack.last else {
                    return .failure(.init("Unexpected end tag at byte offset \(tagStart)"))
                }
                while i < bytes.count, isSpace(bytes[i]) { i += 1 }
                guard i < bytes.count, bytes[i] == UInt8(ascii: ">") else {
                    return .failure(.init("Unclosed end tag at byte offset \(tagStart)"))
                }
                i += 1
                if name != open.name {
                    return .failure(
                        .init("Unmatched end tag at byte offset \(tagStart), expected \"</\(open.name)>\", found \"</\(name)>\""))
                }
                stack.removeLast()
                if utf16Length > open.offset, let entity = entity(for: open, length: utf16Length - open.offset) {
                    entities.append(entity)
                }
                continue
            }
            if i >= bytes.count { return .failure(.init("Unclosed start tag at byte offset \(tagStart)")) }
            guard entityTypes[name] != nil else {
                return .failure(.init("Unsupported start tag \"\(name)\" at byte offset \(tagStart)"))
            }
            var attributes: [String: String] = [:]
            while true {
                while i < bytes.count, isSpace(bytes[i]) { i += 1 }
                guard i < bytes.count else { return .failure(.init("Unclosed start tag at byte offset \(tagStart)")) }
                if bytes[i] == UInt8(ascii: ">") { i += 1; break }
                if bytes[i] == UInt8(ascii: "/"), i + 1 < bytes.count, bytes[i + 1] == UInt8(ascii: ">") { i += 2; break }
                let attrStart = i
                while i < bytes.count, isTagNameByte(bytes[i]) { i += 1 }
                let attrName = String(decoding: bytes[attrStart..<i], as: UTF8.self).lowercased()
                if attrName.isEmpty {
                    return .failure(.init("Empty attribute name in the tag \"\(name)\" at byte offset \(i)"))
                }
                while i < bytes.count, isSpace(bytes[i]) { i += 1 }
                guard i < bytes.count, bytes[i] == UInt8(ascii: "=") else {
                    return .failure(
                        .init("Expected equal sign in declaration of an attribute of the tag \"\(name)\" at byte offset \(i)"))
                }
                i += 1
                while i < bytes.count, isSpace(bytes[i]) { i += 1 }
                guard i < bytes.count else { return .failure(.init("Unclosed start tag at byte offset \(tagStart)")) }
                var value: [UInt8] = []
                if bytes[i] == UInt8(ascii: "\"") || bytes[i] == UInt8(ascii: "'") {
                    let quote = bytes[i]
                    i += 1
                    while i < bytes.count, bytes[i] != quote { value.append(bytes[i]); i += 1 }
                    guard i < bytes.count else { return .failure(.init("Unclosed start tag at byte offset \(tagStart)")) }
                    i += 1
                } else {
                    while i < bytes.count, !isSpace(bytes[i]), bytes[i] != UInt8(ascii: ">") { value.append(bytes[i]); i += 1 }
                }
                attributes[attrName] = decodeAll(value)
            }
            if name == "span", attributes["class"] != "tg-spoiler" {
                return .failure(.init("Tag \"span\" must have class \"tg-spoiler\" at byte offset \(tagStart)"))
            }
            stack.append(OpenTag(name: name, offset: utf16Length, attributes: attributes))
        }
        if let open = stack.last {
            return .failure(.init("Can't find end tag corresponding to start tag \"\(open.name)\""))
        }
        entities.sort { ($0["offset"]?.intValue ?? 0) < ($1["offset"]?.intValue ?? 0) }
        return .success(FormattedText(text: String(decoding: output, as: UTF8.self), entities: entities))
    }

    private static func entity(for tag: OpenTag, length: Int) -> FakeJSON? {
        guard var type = entityTypes[tag.name] else { return nil }
        var dict: [String: FakeJSON] = ["offset": .int(Int64(tag.offset)), "length": .int(Int64(length))]
        switch tag.name {
        case "a":
            guard let href = tag.attributes["href"], !href.isEmpty else { return nil }
            if href.hasPrefix("tg://user?id="), let id = Int64(href.dropFirst("tg://user?id=".count)) {
                type = "text_mention"
                dict["user"] = ["id": .int(id), "is_bot": false, "first_name": .string("User \(id)")]
            } else {
                dict["url"] = .string(href)
            }
        case "blockquote" where tag.attributes["expandable"] != nil:
            type = "expandable_blockquote"
        case "tg-emoji":
            dict["custom_emoji_id"] = .string(tag.attributes["emoji-id"] ?? "")
        case "code":
            if let lang = tag.attributes["class"], lang.hasPrefix("language-") {
                dict["language"] = .string(String(lang.dropFirst("language-".count)))
            }
        default:
            break
        }
        dict["type"] = .string(type)
        return .object(dict)
    }

    private static func isTagNameByte(_ b: UInt8) -> Bool {
        (b >= 0x61 && b <= 0x7A) || (b >= 0x41 && b <= 0x5A) || (b >= 0x30 && b <= 0x39) || b == UInt8(ascii: "-")
            || b == UInt8(ascii: "_")
    }

    private static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D }

    private static func utf8Length(leading b: UInt8) -> Int {
        if b < 0x80 { return 1 }
        if b >= 0xF0 { return 4 }
        if b >= 0xE0 { return 3 }
        if b >= 0xC0 { return 2 }
        return 1
    }

    private static func decodeAll(_ bytes: [UInt8]) -> String {
        var out = ""
        var i = 0
        while i < bytes.count {
            if bytes[i] == UInt8(ascii: "&") {
                let (decoded, consumed) = decodeEntity(bytes, at: i)
                out += decoded
                i += consumed
            } else {
                let len = utf8Length(leading: bytes[i])
                out += String(decoding: bytes[i..<min(i + len, bytes.count)], as: UTF8.self)
                i += len
            }
        }
        return out
    }

    /// `&lt;` `&gt;` `&amp;` `&quot;` and numeric references; anything else stays a literal '&'.
    private static func decodeEntity(_ bytes: [UInt8], at start: Int) -> (String, Int) {
        var end = start + 1
        while end < bytes.count, end - start <= 10, bytes[end] != UInt8(ascii: ";") { end += 1 }
        guard end < bytes.count, bytes[end] == UInt8(ascii: ";") else { return ("&", 1) }
        let name = String(decoding: bytes[(start + 1)..<end], as: UTF8.self)
        let consumed = end - start + 1
        switch name {
        case "lt": return ("<", consumed)
        case "gt": return (">", consumed)
        case "amp": return ("&", consumed)
        case "quot": return ("\"", consumed)
        default:
            if name.hasPrefix("#") {
                let digits = name.dropFirst()
                let value = digits.hasPrefix("x") || digits.hasPrefix("X")
                    ? UInt32(digits.dropFirst(), radix: 16) : UInt32(digits, radix: 10)
                if let value, let scalar = Unicode.Scalar(value) { return (String(Character(scalar)), consumed) }
            }
            return ("&", 1)
        }
    }
}

struct ParseFailure: Error, Sendable {
    var message: String
    init(_ message: String) { self.message = message }
}

struct FormattedText: Sendable {
    var text: String
    var entities: [FakeJSON]
}
