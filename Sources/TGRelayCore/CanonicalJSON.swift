import Foundation

/// One text per JSON value, so that payload hashes and idempotency comparisons do not depend on how
/// a client happened to format its request. Follows RFC 8785 (JCS) where it matters: members sorted
/// by UTF-16 code units, no insignificant whitespace, minimal string escaping, non-ASCII kept as
/// UTF-8; numbers as `JSONNumber` prints them.
public enum CanonicalJSON {
    public enum Error: Swift.Error, Sendable, Equatable {
        case invalidJSON(JSONParseError)
        case notAnObject
    }

    /// Parses `text`, which must be a JSON object, and returns it with its canonical text.
    public static func parseObject(_ text: String) throws(CanonicalJSON.Error) -> (object: [String: JSONValue], canonical: String) {
        let value: JSONValue
        do {
            value = try JSONParser.parse(text)
        } catch {
            throw .invalidJSON(error)
        }
        guard case .object(let members) = value else { throw .notAnObject }
        return (members, serialize(value))
    }

    /// The canonical text of a JSON object given as text.
    public static func canonicalize(_ text: String) throws(CanonicalJSON.Error) -> String {
        try parseObject(text).canonical
    }

    public static func serialize(_ value: JSONValue) -> String {
        var output = ""
        write(value, to: &output)
        return output
    }

    private static func write(_ value: JSONValue, to output: inout String) {
        switch value {
        case .null:
            output += "null"
        case .bool(let flag):
            output += flag ? "true" : "false"
        case .number(let number):
            output += number.text
        case .string(let string):
            writeString(string, to: &output)
        case .array(let elements):
            output += "["
            for (position, element) in elements.enumerated() {
                if position > 0 { output += "," }
                write(element, to: &output)
            }
            output += "]"
        case .object(let members):
            output += "{"
            let keys = members.keys.sorted { $0.utf16.lexicographicallyPrecedes($1.utf16) }
            for (position, key) in keys.enumerated() {
                if position > 0 { output += "," }
                writeString(key, to: &output)
                output += ":"
                write(members[key]!, to: &output)
            }
            output += "}"
        }
    }

    private static func writeString(_ string: String, to output: inout String) {
        output += "\""
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": output += "\\\""
            case "\\": output += "\\\\"
            case "\u{08}": output += "\\b"
            case "\u{0C}": output += "\\f"
            case "\n": output += "\\n"
            case "\r": output += "\\r"
            case "\t": output += "\\t"
            case "\u{00}"..."\u{1F}":
                let hex = String(scalar.value, radix: 16)
                output += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default:
                output.unicodeScalars.append(scalar)
            }
        }
        output += "\""
    }
}
