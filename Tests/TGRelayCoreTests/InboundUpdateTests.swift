import Foundation
import TGRelayCore
import Testing

@Suite struct InboundUpdateTests {
    func parse(_ text: String) throws -> InboundUpdate {
        try InboundUpdate(JSONParser.parse(text))
    }

    @Test func messageUpdateKeepsItsIdChatAndExactJSON() throws {
        let update = try parse(#"{"update_id": 9007199254740993, "message": {"chat": {"id": -1001234567890123}, "text": "hi"}}"#)
        #expect(update.updateID == 9_007_199_254_740_993)
        #expect(update.type == "message")
        #expect(update.chat == "-1001234567890123")
        #expect(!update.reactivatesChat)
        #expect(update.json == #"{"message":{"chat":{"id":-1001234567890123},"text":"hi"},"update_id":9007199254740993}"#)
    }

    @Test func callbackQueryBelongsToItsMessagesChatAndInlineQueryToNone() throws {
        #expect(try parse(#"{"update_id":1,"callback_query":{"id":"x","message":{"chat":{"id":42}}}}"#).chat == "42")
        #expect(try parse(#"{"update_id":1,"inline_query":{"id":"x","query":"q"}}"#).chat == nil)
    }

    @Test(arguments: [
        ("kicked", "member", true), ("left", "administrator", true), ("kicked", "creator", true),
        ("member", "kicked", false), ("member", "administrator", false), ("kicked", "left", false),
    ])
    func myChatMemberReactivatesOnlyWhenTheBotComesBack(old: String, new: String, reactivates: Bool) throws {
        let text = #"{"update_id":5,"my_chat_member":{"chat":{"id":7},"old_chat_member":{"status":"\#(old)"},"new_chat_member":{"status":"\#(new)"}}}"#
        let update = try parse(text)
        #expect(update.reactivatesChat == reactivates)
        #expect(update.chat == "7")
    }

    @Test func chatMemberOfSomeoneElseNeverReactivates() throws {
        let text = #"{"update_id":5,"chat_member":{"chat":{"id":7},"old_chat_member":{"status":"kicked"},"new_chat_member":{"status":"member"}}}"#
        #expect(try !parse(text).reactivatesChat)
    }

    @Test func malformedUpdatesAreRefused() throws {
        #expect(throws: InboundUpdate.ParseError.notAnObject) { try parse("[1]") }
        #expect(throws: InboundUpdate.ParseError.missingUpdateID) { try parse(#"{"message":{}}"#) }
        #expect(throws: InboundUpdate.ParseError.missingUpdateID) { try parse(#"{"update_id":0,"message":{}}"#) }
        #expect(throws: InboundUpdate.ParseError.missingContent) { try parse(#"{"update_id":3}"#) }
    }

    @Test func pollBackoffDoublesCapsAndHoldsConflictsOff() {
        let policy = PollBackoff(initialDelay: 1, multiplier: 2, maximumDelay: 60, jitter: 0.2, conflictMinimum: 5)
        var middle = FixedRandom.middle
        #expect(abs(policy.delay(afterFailures: 1, conflict: false, random: &middle) - 1) < 0.01)
        #expect(abs(policy.delay(afterFailures: 3, conflict: false, random: &middle) - 4) < 0.01)
        #expect(policy.delay(afterFailures: 30, conflict: false, random: &middle) <= 60)
        // A 409 never retries sooner than the conflict minimum, however few failures came before.
        var lowest = FixedRandom.lowest
        #expect(policy.delay(afterFailures: 1, conflict: true, random: &lowest) == 5)
        var highest = FixedRandom.highest
        #expect(policy.delay(afterFailures: 1, conflict: false, random: &highest) <= 1.2)
    }
}
