import Foundation
import Testing
@testable import TGRelayCore

@Suite struct JSONParserTests {
    @Test func parsesEveryKindOfValue() throws {
        let value = try JSONParser.parse(#" {"a": [1, -2.5, true, false, null], "b": {"c": "d"}, "e": ""} "#)
        #expect(value["a"] == .array([
            .number(JSONNumber(1)), .number(JSONNumber(literal: "-2.5")), .bool(true), .bool(false), .null,
        ]))
        #expect(value["b"]?["c"] == .string("d"))
        #expect(value["e"] == .string(""))
    }

    @Test func keepsSixtyFourBitIntegersExact() throws {
        let value = try JSONParser.parse(#"{"id": -1001234567890123, "max": 9223372036854775807}"#)
        #expect(value["id"]?.int64Value == -1_001_234_567_890_123)
        #expect(value["max"]?.int64Value == Int64.max)
    }

    @Test func decodesEscapesAndSurrogatePairs() throws {
        let value = try JSONParser.parse(#"["\"\\\/\b\f\n\r\t", "\u00e9\u4e2d", "\ud83d\ude00", "é😀"]"#)
        #expect(value.arrayValue?.map(\.stringValue) == ["\"\\/\u{08}\u{0C}\n\r\t", "é中", "😀", "é😀"])
    }

    @Test(arguments: [
        "", "{", "[1,]", "{\"a\":1,}", "01", "1.", "-", "1e", "+1", ".5", "tru", "nul", "\"abc",
        "\"\\x\"", "\"\\u12\"", "\"\\ud83d\"", "\"\\ude00\"", "\"a\u{01}b\"", "{\"a\" 1}", "{a:1}",
        "[1] 2", "{\"a\":1,\"a\":2}", "'a'", "NaN",
    ])
    func rejectsInvalidDocuments(_ text: String) {
        #expect(throws: JSONParseError.self) { try JSONParser.parse(text) }
    }

    @Test func rejectsInvalidUTF8InStrings() {
        #expect(throws: JSONParseError.self) { try JSONParser.parse([0x22, 0xFF, 0x22]) }
    }

    @Test func limitsNesting() throws {
        let deep = String(repeating: "[", count: 300) + String(repeating: "]", count: 300)
        #expect(throws: JSONParseError.self) { try JSONParser.parse(deep) }
        let fine = String(repeating: "[", count: 200) + String(repeating: "]", count: 200)
        _ = try JSONParser.parse(fine)
    }

    @Test func reportsWhereParsingStopped() {
        #expect(throws: JSONParseError(offset: 4, reason: "unexpected character")) {
            try JSONParser.parse("[1, ?]")
        }
    }

    @Test func returnsRawMemberText() throws {
        let body = #"{"ok":true,"result":{"message_id": 5, "text":"a\/b",  "x":1.50}}"#
        let members = try JSONParser.parseObjectWithRawMembers(Array(body.utf8))
        #expect(members["result"]?.raw == #"{"message_id": 5, "text":"a\/b",  "x":1.50}"#)
        #expect(members["ok"]?.raw == "true")
        #expect(members["result"]?.value["text"] == .string("a/b"))
    }

    @Test func rawMembersNeedAnObject() {
        #expect(throws: JSONParseError.self) { try JSONParser.parseObjectWithRawMembers(Array("[1]".utf8)) }
        #expect(throws: JSONParseError.self) { try JSONParser.parseObjectWithRawMembers(Array("{} x".utf8)) }
    }

    @Test func numbersHaveOneCanonicalText() {
        let cases: [(String, String)] = [
            ("0", "0"), ("-0", "0"), ("1.0", "1"), ("1e3", "1000"), ("1E+3", "1000"), ("-2.50", "-2.5"),
            ("0.1", "0.1"), ("1e-7", "1e-07"), ("12345678901234567890", "12345678901234567890"),
            ("1e400", "1e400"), ("9007199254740993.0", "9007199254740992.0"), ("1e16", "1e+16"),
        ]
        for (literal, canonical) in cases {
            #expect(JSONNumber(literal: literal).text == canonical, "\(literal)")
        }
    }
}
