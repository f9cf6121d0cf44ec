import Foundation
import Testing
import TGRelayCore

@Suite struct CanonicalJSONTests {
    @Test func sortsKeysAndDropsWhitespace() throws {
        let text = "{ \"text\": \"hi\",\n \"chat_id\": 42, \"reply_markup\": {\"z\": 1, \"a\": [ 2, 1 ]} }"
        #expect(try CanonicalJSON.canonicalize(text) == #"{"chat_id":42,"reply_markup":{"a":[2,1],"z":1},"text":"hi"}"#)
    }

    @Test func equalPayloadsGetEqualText() throws {
        let a = try CanonicalJSON.canonicalize(#"{"chat_id": 42.0, "text": "caf\u00e9", "n": 1e2}"#)
        let b = try CanonicalJSON.canonicalize(#"{"n":100,"text":"café","chat_id":42}"#)
        #expect(a == b)
        #expect(a == #"{"chat_id":42,"n":100,"text":"café"}"#)
    }

    @Test func escapesOnlyWhatJSONRequires() throws {
        let canonical = try CanonicalJSON.canonicalize(#"{"s":"q\" b\\ \/ \n\t\u0001\u001f é 😀 \u2028"}"#)
        #expect(canonical == "{\"s\":\"q\\\" b\\\\ / \\n\\t\\u0001\\u001f é 😀 \u{2028}\"}")
    }

    @Test func sortsByUTF16CodeUnitsAsRFC8785() throws {
        // U+1F600 is D83D DE00 in UTF-16, below U+FB01 although its scalar value is higher.
        let canonical = try CanonicalJSON.canonicalize(#"{"ﬁ":1,"😀":2,"B":3,"a":4,"":5}"#)
        #expect(canonical == #"{"":5,"B":3,"a":4,"😀":2,"ﬁ":1}"#)
    }

    @Test func isIdempotent() throws {
        let once = try CanonicalJSON.canonicalize(#"{"b":[{"y":null,"x":false}],"a":-0.0}"#)
        #expect(try CanonicalJSON.canonicalize(once) == once)
        #expect(once == #"{"a":0,"b":[{"x":false,"y":null}]}"#)
    }

    @Test func returnsTheParsedObject() throws {
        let (object, canonical) = try CanonicalJSON.parseObject(#"{"chat_id":"@news"}"#)
        #expect(object["chat_id"] == .string("@news"))
        #expect(canonical == #"{"chat_id":"@news"}"#)
    }

    @Test func refusesNonObjectsAndInvalidJSON() {
        #expect(throws: CanonicalJSON.Error.notAnObject) { try CanonicalJSON.canonicalize("[1]") }
        #expect(throws: CanonicalJSON.Error.notAnObject) { try CanonicalJSON.canonicalize("\"x\"") }
        #expect(throws: CanonicalJSON.Error.self) { try CanonicalJSON.canonicalize("{\"a\":1,\"a\":1}") }
        #expect(throws: CanonicalJSON.Error.self) { try CanonicalJSON.canonicalize("{") }
    }
}
