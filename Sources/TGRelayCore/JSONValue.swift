import Foundation

/// A parsed JSON document. Numbers keep their exact text (see `JSONNumber`) so 64-bit ids never pass
/// through a `Double`.
public enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case number(JSONNumber)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public subscript(key: String) -> JSONValue? {
        if case .object(let members) = self { members[key] } else { nil }
    }

    public var stringValue: String? {
        if case .string(let value) = self { value } else { nil }
    }

    public var int64Value: Int64? {
        if case .number(let number) = self { number.int64Value } else { nil }
    }

    public var boolValue: Bool? {
        if case .bool(let value) = self { value } else { nil }
    }

    public var arrayValue: [JSONValue]? {
        if case .array(let elements) = self { elements } else { nil }
    }

    public var objectValue: [String: JSONValue]? {
        if case .object(let members) = self { members } else { nil }
    }
}

/// A JSON number in canonical text form, so that equal values compare and serialize equally:
/// integers as plain decimal (`-0` → `0`, `1.0` and `1e3` → `1` and `1000` when exactly
/// representable), other values in Swift's shortest round-trip form.
public struct JSONNumber: Sendable, Hashable, CustomStringConvertible {
    /// The canonical text.
    public let text: String

    /// `literal` must follow JSON's number grammar; the parser guarantees it.
    init(literal: String) {
        text = JSONNumber.canonicalText(literal)
    }

    public init(_ value: Int64) {
        text = String(value)
    }

    public var int64Value: Int64? { Int64(text) }
    public var doubleValue: Double? { Double(text) }
    public var description: String { text }

    /// Integers beyond 2^53 cannot round-trip through a `Double`; below it integral values print
    /// without a fraction.
    private static let exactIntegerLimit = 9_007_199_254_740_992.0

    private static func canonicalText(_ literal: String) -> String {
        let isInteger = !literal.contains(where: { $0 == "." || $0 == "e" || $0 == "E" })
        if isInteger {
            // Huge integers keep their digits: the grammar already forbids leading zeros.
            if let value = Int64(literal) { return String(value) }
            return literal == "-0" ? "0" : literal
        }
        guard let value = Double(literal), value.isFinite else { return literal }
        if value == value.rounded(), abs(value) < exactIntegerLimit {
            return String(Int64(value))
        }
        return value.description
    }
}
