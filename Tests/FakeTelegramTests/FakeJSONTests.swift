import Foundation
import Testing

@testable import FakeTelegram

/// The simulator's JSON reader and writer, which every request and answer goes through.
@Suite struct FakeJSONTests {
    @Test func readsEveryKindOfValue() throws {
        let json = try FakeJSON.parse(
            #" {"a": [1, -2, 3.5, -0.25e1, 1E2, true, false, null], "b": {"c": "d"}, "e": "", "f": [], "g": {}} "#)
        #expect(json == [
            "a": [.int(1), .int(-2), .double(3.5), .double(-2.5), .double(100), true, false, .null],
            "b": ["c": "d"], "e": "", "f": [], "g": [:],
        ])
        #expect(try FakeJSON.parse("42") == .int(42))
        #expect(try FakeJSON.parse("\"x\"") == "x")
        #expect(try FakeJSON.parse("-9223372036854775808") == .int(Int64.min))
        // Past 64 bits an integer is still a number, as Telegram's parser reads it.
        #expect(try FakeJSON.parse("9223372036854775808") == .double(9223372036854775808))
    }

    @Test func decodesEscapesAndKeepsUTF8() throws {
        let json = try FakeJSON.parse(#"["a\"b\\c\/d\b\f\n\r\t", "\u00e9\u4e2d", "\ud83d\ude00", "héllo 😀"]"#)
        #expect(json == ["a\"b\\c/d\u{08}\u{0C}\n\r\t", "é中", "😀", "héllo 😀"])
    }

    @Test func aRepeatedKeyKeepsItsLastValue() throws {
        #expect(try FakeJSON.parse(#"{"k": 1, "k": 2}"#) == ["k": 2])
    }

    @Test(arguments: [
        "", " ", "{", "[1,]", "{\"a\":1,}", "{\"a\" 1}", "{a:1}", "[1 2]", "01", "-", "1.", "1e", ".5", "+1", "tru", "nul",
        "\"abc", "\"\\x\"", "\"\\u12\"", "\"\\ud83d\"", "\"\\ude00\"", "\"a\u{01}b\"", "1 2", "{} x", "1e999",
    ])
    func refusesMalformedDocuments(_ text: String) {
        #expect(throws: FakeJSONError.self) { try FakeJSON.parse(bytes: Array(text.utf8)) }
    }

    @Test func refusesInvalidUTF8AndDeepNesting() throws {
        #expect(throws: FakeJSONError.self) { try FakeJSON.parse(bytes: [0x22, 0xFF, 0x22]) }
        #expect(throws: FakeJSONError.self) { try FakeJSON.parse(String(repeating: "[", count: 600) + String(repeating: "]", count: 600)) }
        #expect(try FakeJSON.parse(String(repeating: "[", count: 100) + String(repeating: "]", count: 100)) != .null)
    }

    @Test func serializesWithSortedKeysAndEscapesOnlyWhatJSONRequires() throws {
        let value: FakeJSON = ["b": "plain", "a": "q\"uote\\ new\nline \u{01} é 😀", "c": [.int(-1), .double(0.5), .null]]
        #expect(value.serialized == #"{"a":"q\"uote\\ new\nline \u0001 é 😀","b":"plain","c":[-1,0.5,null]}"#)
        #expect(try FakeJSON.parse(value.serialized) == value)
    }
}
