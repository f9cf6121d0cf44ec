import Foundation
import Testing
import TGRelayCore

@Suite struct ChatReferenceTests {
    @Test(arguments: [
        ("42", "42"), ("-1001234567890", "-1001234567890"), ("+42", "42"), ("007", "7"),
        ("@News", "@news"), ("@my_channel_2", "@my_channel_2"),
        ("9223372036854775807", "9223372036854775807"),
    ])
    func canonicalText(_ input: String, _ expected: String) {
        #expect(ChatReference.canonical(input) == expected)
        #expect(ChatReference.canonical(JSONValue.string(input)) == expected)
    }

    @Test(arguments: ["", "0", "-0", "@", "@a b", "@ä", "abc", "1.5", " 42", "9223372036854775808", "@a-b"])
    func invalidText(_ input: String) {
        #expect(ChatReference.canonical(input) == nil)
    }

    @Test func jsonValues() throws {
        #expect(ChatReference.canonical(try JSONParser.parse("-100123")) == "-100123")
        #expect(ChatReference.canonical(try JSONParser.parse("1e2")) == "100")
        #expect(ChatReference.canonical(try JSONParser.parse("0")) == nil)
        #expect(ChatReference.canonical(try JSONParser.parse("1.5")) == nil)
        #expect(ChatReference.canonical(JSONValue.null) == nil)
        #expect(ChatReference.canonical(JSONValue.bool(true)) == nil)
    }

    @Test func canonicalChatsGiveTheRightChatKind() {
        #expect(LaneKey(bot: "b", chat: ChatReference.canonical("@News")!).chatKind == .group)
        #expect(LaneKey(bot: "b", chat: ChatReference.canonical("-100")!).chatKind == .group)
        #expect(LaneKey(bot: "b", chat: ChatReference.canonical("+42")!).chatKind == .privateChat)
    }
}
