import Foundation

extension FakeJSON {
    /// Parses a JSON document (any top-level value, surrounded by optional white space) as RFC 8259 has it:
    /// integers that fit are `.int`, other numbers `.double`; a repeated key keeps its last value; strings
    /// must be valid UTF-8. Every request body goes through here, so it reads the bytes directly rather
    /// than through `Codable`.
    public static func parse(_ data: Data) throws -> FakeJSON {
        try parse(bytes: [UInt8](data))
    }

    public static func parse(_ string: String) throws -> FakeJSON {
        try parse(bytes: Array(string.utf8))
    }

    static func parse(bytes: [UInt8]) throws(FakeJSONError) -> FakeJSON {
        var reader = Reader(bytes: bytes)
        let value = try reader.value(depth: 0)
        reader.skipWhitespace()
        guard reader.index == bytes.count else { throw reader.error("unexpected text after the value") }
        return value
    }

    private struct Reader {
        /// Deeper documents are refused rather than risk the stack.
        static let maxDepth = 512
        let bytes: [UInt8]
        var index = 0

        func error(_ reason: String) -> FakeJSONError { FakeJSONError(offset: index, reason: reason) }

        mutating func skipWhitespace() {
            while index < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[index]) { index += 1 }
        }

        mutating func value(depth: Int) throws(FakeJSONError) -> FakeJSON {
            guard depth < Self.maxDepth else { throw error("nested too deeply") }
            skipWhitespace()
            guard index < bytes.count else { throw error("unexpected end") }
            switch bytes[index] {
            case UInt8(ascii: "{"): return try object(depth: depth)
            case UInt8(ascii: "["): return try array(depth: depth)
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "t"): return try literal("true", .bool(true))
            case UInt8(ascii: "f"): return try literal("false", .bool(false))
            case UInt8(ascii: "n"): return try literal("null", .null)
            default: return try number()
            }
        }

        private mutating func literal(_ word: String, _ value: FakeJSON) throws(FakeJSONError) -> FakeJSON {
            let text = word.utf8
            guard bytes.count - index >= text.count, bytes[index..<index + text.count].elementsEqual(text) else {
                throw error("invalid literal")
            }
            index += text.count
            return value
        }

        private mutating func object(depth: Int) throws(FakeJSONError) -> FakeJSON {
            index += 1
            var members: [String: FakeJSON] = [:]
            skipWhitespace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
                index += 1
                return .object(members)
            }
            while true {
                skipWhitespace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw error("expected a key") }
                let key = try string()
                skipWhitespace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw error("expected ':'") }
                index += 1
                members[key] = try value(depth: depth + 1)
                guard try anotherFollows(closing: UInt8(ascii: "}")) else { return .object(members) }
            }
        }

        private mutating func array(depth: Int) throws(FakeJSONError) -> FakeJSON {
            index += 1
            var items: [FakeJSON] = []
            skipWhitespace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
                index += 1
                return .array(items)
            }
            while true {
                items.append(try value(depth: depth + 1))
                guard try anotherFollows(closing: UInt8(ascii: "]")) else { return .array(items) }
            }
        }

        /// After a member or an element: true at `,`, false at the closing bracket `close`.
        private mutating func anotherFollows(closing close: UInt8) throws(FakeJSONError) -> Bool {
            skipWhitespace()
            guard index < bytes.count else { throw error("unexpected end") }
            index += 1
            switch bytes[index - 1] {
            case UInt8(ascii: ","): return true
            case close: return false
            default: throw error("expected ',' or '\(Character(Unicode.Scalar(close)))'")
            }
        }

        /// A string from its opening quote: the bytes between escapes are taken as they are (and must be
        /// valid UTF-8); escapes are decoded, surrogate pairs joined.
        private mutating func string() throws(FakeJSONError) -> String {
            index += 1
            var out: [UInt8] = []
            var runStart = index
            while true {
                guard index < bytes.count else { throw error("unterminated string") }
                let byte = bytes[index]
                if byte == UInt8(ascii: "\"") {
                    out += bytes[runStart..<index]
                    index += 1
                    guard let text = String(validating: out, as: UTF8.self) else { throw error("invalid UTF-8 in a string") }
                    return text
                }
                guard byte >= 0x20 else { throw error("control character in a string") }
                guard byte == UInt8(ascii: "\\") else {
                    index += 1
                    continue
                }
                out += bytes[runStart..<index]
                index += 1
                guard index < bytes.count else { throw error("unterminated string") }
                let escaped = bytes[index]
                index += 1
                switch escaped {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(escaped)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"): out += Array(String(try unicodeEscape()).utf8)
                default: throw error("invalid escape")
                }
                runStart = index
            }
        }

        /// The scalar of a `\u` escape (its `\u` already read), with the low half of a surrogate pair.
        private mutating func unicodeEscape() throws(FakeJSONError) -> Unicode.Scalar {
            let high = try hex4()
            guard (0xD800..<0xDC00).contains(high) else {
                guard !(0xDC00..<0xE000).contains(high), let scalar = Unicode.Scalar(high) else { throw error("lone surrogate") }
                return scalar
            }
            guard bytes.count - index >= 2, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                throw error("lone surrogate")
            }
            index += 2
            let low = try hex4()
            guard (0xDC00..<0xE000).contains(low), let scalar = Unicode.Scalar(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)) else {
                throw error("lone surrogate")
            }
            return scalar
        }

        private mutating func hex4() throws(FakeJSONError) -> UInt32 {
            guard bytes.count - index >= 4 else { throw error("short \\u escape") }
            var value: UInt32 = 0
            for byte in bytes[index..<index + 4] {
                guard let digit = Character(Unicode.Scalar(byte)).hexDigitValue else { throw error("invalid \\u escape") }
                value = value << 4 | UInt32(digit)
            }
            index += 4
            return value
        }

        /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`: an `.int` when it has neither fraction nor
        /// exponent and fits in 64 bits.
        private mutating func number() throws(FakeJSONError) -> FakeJSON {
            let start = index
            func digits() -> Int {
                let first = index
                while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
                return index - first
            }
            if index < bytes.count, bytes[index] == UInt8(ascii: "-") { index += 1 }
            let integerStart = index
            let integerDigits = digits()
            guard integerDigits > 0 else { throw error("invalid value") }
            guard integerDigits == 1 || bytes[integerStart] != UInt8(ascii: "0") else { throw error("leading zero in a number") }
            var integral = true
            if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
                index += 1
                guard digits() > 0 else { throw error("digits expected after '.'") }
                integral = false
            }
            if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
                index += 1
                if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
                guard digits() > 0 else { throw error("digits expected in the exponent") }
                integral = false
            }
            let text = String(decoding: bytes[start..<index], as: UTF8.self)
            if integral, let int = Int64(text) { return .int(int) }
            guard let double = Double(text), double.isFinite else { throw error("number out of range") }
            return .double(double)
        }
    }
}

/// Where and why a JSON document could not be read.
public struct FakeJSONError: Error, CustomStringConvertible {
    public var offset: Int
    public var reason: String
    public var description: String { "invalid JSON at byte \(offset): \(reason)" }
}
