import Foundation
import TGRelayCore
import Testing

/// Telegram restarting its update ids after a quiet week (TELEGRAM.md) must never move the relay's ids back.
@Suite struct UpdateNumberingTests {
    let start = Date(timeIntervalSince1970: 1_800_000_000)
    let day: TimeInterval = 24 * 3600

    @Test func theFirstBatchAndGrowingIdsKeepTelegramsNumbers() {
        #expect(UpdateNumbering().shift(forTelegramIDs: [500, 501], now: start) == 0)
        let numbering = UpdateNumbering(highest: 501, lastReceivedAt: start)
        #expect(numbering.shift(forTelegramIDs: [502], now: start.addingTimeInterval(2 * day)) == 0)
        // A restart to a higher random value needs no renumbering either.
        #expect(numbering.shift(forTelegramIDs: [90_000], now: start.addingTimeInterval(8 * day)) == 0)
    }

    @Test func aLowerIdWithinTheRedeliveryHorizonIsALateOrRepeatedDelivery() {
        let numbering = UpdateNumbering(highest: 501, lastReceivedAt: start)
        #expect(numbering.shift(forTelegramIDs: [480, 501], now: start.addingTimeInterval(day)) == 0)
        let shifted = UpdateNumbering(shift: 1000, highest: 1020, lastReceivedAt: start)
        #expect(shifted.shift(forTelegramIDs: [15], now: start.addingTimeInterval(60)) == 1000)
    }

    @Test func aLowerIdAfterTheHorizonIsARestartAndContinuesAboveTheHighest() {
        let numbering = UpdateNumbering(highest: 501, lastReceivedAt: start)
        let later = start.addingTimeInterval(7 * day)
        #expect(numbering.shift(forTelegramIDs: [12, 11, 13], now: later) == 491)  // 11 becomes 502
        #expect(numbering.shift(forTelegramIDs: [501], now: later) == 1)
        // A second restart builds on the first shift.
        let again = UpdateNumbering(shift: 491, highest: 600, lastReceivedAt: start)
        #expect(again.shift(forTelegramIDs: [3], now: later) == 598)
        // No record of when the last update came (all pruned long ago): nothing can be re-sent.
        #expect(UpdateNumbering(highest: 501).shift(forTelegramIDs: [7], now: later) == 495)
    }

    @Test func renumberingMovesTheIdInsideTheJSONToo() throws {
        let update = try InboundUpdate(JSONParser.parse(#"{"update_id": 11, "message": {"chat": {"id": 42}, "text": "hi"}}"#))
        let moved = update.renumbered(by: 491)
        #expect(moved.updateID == 502)
        #expect(moved.json == #"{"message":{"chat":{"id":42},"text":"hi"},"update_id":502}"#)
        #expect(moved.chat == "42" && moved.type == "message")
        #expect(update.renumbered(by: 0) == update)
    }
}
