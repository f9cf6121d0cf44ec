import FakeTelegram
import Foundation
import Testing

/// The dispatcher holds only `options.lane_window` lanes per bot and pages the others in from the store:
/// with far more lanes than that, every lane is still served, in order, within Telegram's limits, also
/// after a restart that finds them all in the store.
@Suite(.serialized)
struct LaneWindowTests {
    static func texts(lane: Int, count: Int) -> [String] {
        (0..<count).map { "W\(lane)-\($0)" }
    }

    @Test func moreLanesThanTheWindowAreAllDeliveredInOrderAtTelegramsLimits() async throws {
        let bed = try await TestBed(limits: .telegram, config: ["options": ["lane_window": 10]])
        defer { Task { try await bed.shutdown() } }
        let lanes = 60, perLane = 3
        var batch: [[String: Any]] = []
        for seq in 0..<perLane {
            for lane in 0..<lanes { batch.append(["chat_id": 40_000 + lane, "text": "W\(lane)-\(seq)"]) }
        }
        #expect(try await bed.post("/messages/batch", ["messages": batch]).status == 202)
        let done = try await eventually(timeout: .seconds(90), every: .milliseconds(250)) {
            bed.telegram.stats().messagesDelivered >= lanes * perLane
        }
        #expect(done, "delivered \(bed.telegram.stats().messagesDelivered) of \(lanes * perLane)")
        for lane in 0..<lanes {
            #expect(bed.deliveredTexts(chat: String(40_000 + lane)) == Self.texts(lane: lane, count: perLane), "lane \(lane)")
        }
        let stats = bed.telegram.stats()
        #expect(stats.limitViolations == 0)
        #expect(stats.tooManyRequestsTotal == 0)
        #expect(stats.duplicatePayloads == 0)
    }

    @Test func aRestartPagesEveryWaitingLaneBackIn() async throws {
        let bed = try await TestBed(
            limits: .off, config: ["rate_limits": "off", "options": ["lane_window": 8, "request_timeout_seconds": 2]])
        defer { Task { try await bed.shutdown() } }
        try bed.telegram.addFault(FakeFault(kind: .outage))
        let lanes = 150, perLane = 4
        var ids: [Int] = []
        for seq in 0..<perLane {
            let batch: [[String: Any]] = (0..<lanes).map { ["chat_id": 50_000 + $0, "text": "W\($0)-\(seq)"] }
            let response = try await bed.post("/messages/batch", ["messages": batch])
            #expect(response.status == 202)
            ids += (response["messages"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? Int }
            // The restart comes halfway: lanes are known only to the store when the new process starts.
            if seq == 1 {
                bed.relay.kill9()
                try await bed.relay.start(http: bed.http)
            }
        }
        #expect(ids.count == lanes * perLane)
        bed.telegram.clearFaults()
        let final = try await bed.waitFinal(ids, timeout: .seconds(120))
        #expect(final.count == ids.count)
        #expect(final.values.allSatisfy { $0["status"] as? String == "delivered" })
        for lane in 0..<lanes {
            #expect(bed.deliveredTexts(chat: String(50_000 + lane)) == Self.texts(lane: lane, count: perLane), "lane \(lane)")
        }
    }
}
