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
        var output: [UInt8] = []
        output.reserveCapacity(256)
        write(value, to: &output)
        return String(decoding: output, as: UTF8.self)
    }

    /// Written as UTF-8 bytes: appending to a `String` scalar by scalar was most of a batch accept's
    /// serialization time.
    private static func write(_ value: JSONValue, to output: inout [UInt8]) {
        switch value {
        case .null:
            output.append(contentsOf: "null".utf8)
        case .bool(let flag):
            output.append(contentsOf: (flag ? "true" : "false").utf8)
        case .number(let number):
            output.append(contentsOf: number.text.utf8)
        case .string(let string):
            writeString(string, to: &output)
        case .array(let elements):
            output.append(UInt8(ascii: "["))
            for (position, element) in elements.enumerated() {
                if position > 0 { output.append(UInt8(ascii: ",")) }
                write(element, to: &output)
            }
            output.append(UInt8(ascii: "]"))
        case .object(let members):
            output.append(UInt8(ascii: "{"))
            let keys = members.keys.sorted { $0.utf16.lexicographicallyPrecedes($1.utf16) }
            for (position, key) in keys.enumerated() {
                if position > 0 { output.append(UInt8(ascii: ",")) }
                writeString(key, to: &output)
                output.append(UInt8(ascii: ":"))
                write(members[key]!, to: &output)
            }
            output.append(UInt8(ascii: "}"))
        }
    }

    /// Minimal escaping: `"`, `\` and control characters; everything else, non-ASCII included, as is.
    public static func writeString(_ string: String, to output: inout [UInt8]) {
        output.append(UInt8(ascii: "\""))
        for byte in string.utf8 {
            switch byte {
            case UInt8(ascii: "\""): output.append(contentsOf: #"\""#.utf8)
            case UInt8(ascii: "\\"): output.append(contentsOf: #"\\"#.utf8)
            case 0x08: output.append(contentsOf: #"\b"#.utf8)
            case 0x0C: output.append(contentsOf: #"\f"#.utf8)
            case 0x0A: output.append(contentsOf: #"\n"#.utf8)
            case 0x0D: output.append(contentsOf: #"\r"#.utf8)
            case 0x09: output.append(contentsOf: #"\t"#.utf8)
            case 0x00...0x1F:
                output.append(contentsOf: #"\u00"#.utf8)
                output.append(Hex.digit(byte >> 4))
                output.append(Hex.digit(byte & 0x0F))
            default:
                output.append(byte)
            }
        }
        output.append(UInt8(ascii: "\""))
    }
}
