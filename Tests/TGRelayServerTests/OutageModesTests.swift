import FakeTelegram
import Foundation
import Testing

/// A two-minute Telegram outage in each of the simulator's modes — 502 HTML, refused connections, hung
/// requests, `500 restart` — while 5,000 messages are accepted: nothing is lost or dead-lettered, every
/// chat keeps its order, sending resumes within 5 s of the recovery and the backlog drains at ≥ 95 % of
/// the allowed rate (Telegram's default 30/s per bot). The four modes run at once (four relays, four
/// simulators, ~5 min) to keep the suite short.
@Suite(.serialized)
struct OutageModesTests {
    static let modes: [FakeFault.Kind] = [.outage, .refuseConnections, .hang, .internalError]
    static let outageSeconds = 120.0
    static let chats = 1000
    static let perChat = 5
    /// Telegram's default 30/s per bot: the 5,000-message drain takes ~170 s.
    static let allowedRate = 30.0

    struct Outcome: Sendable {
        var mode: FakeFault.Kind
        var recoveredAt: Date
        /// Arrival times at the simulator, sorted.
        var arrivals: [Date]
        /// Texts each chat received, in arrival order.
        var textsByChat: [Int64: [String]]
        var status: [String: Int]
        var limitViolations: Int
    }

    @Test func noMessageIsLostInAnyOutageModeAndTheBacklogDrainsAtFullRate() async throws {
        let outcomes = try await withThrowingTaskGroup(of: Outcome.self) { group in
            for mode in Self.modes {
                group.addTask { try await Self.ride(mode) }
            }
            return try await group.reduce(into: [Outcome]()) { $0.append($1) }
        }
        #expect(outcomes.count == Self.modes.count)
        for outcome in outcomes {
            let mode = outcome.mode.rawValue
            let expected = Self.chats * Self.perChat
            #expect(outcome.arrivals.count == expected, "\(mode): every message delivered, none twice")
            #expect(outcome.status["delivered"] == expected, "\(mode): \(outcome.status)")
            #expect(outcome.status["dead_letters"] == 0, "\(mode): nothing dead-lettered because of the outage")
            #expect(outcome.status["queue_depth"] == 0, "\(mode)")
            #expect(outcome.limitViolations == 0, "\(mode)")
            let outOfOrder = outcome.textsByChat.filter { chat, texts in texts != (0..<Self.perChat).map { "c\(chat)-\($0)" } }
            #expect(outOfOrder.isEmpty, "\(mode): chats lost, duplicated or reordered: \(outOfOrder.prefix(3))")
            guard let first = outcome.arrivals.first, let last = outcome.arrivals.last else { continue }
            #expect(first >= outcome.recoveredAt.addingTimeInterval(-0.5), "\(mode): nothing got through the outage")
            let resumedAfter = first.timeIntervalSince(outcome.recoveredAt)
            #expect(resumedAfter <= 5, "\(mode): sending resumed \(resumedAfter) s after the recovery")
            let rate = Double(outcome.arrivals.count - 1) / last.timeIntervalSince(first)
            #expect(rate >= 0.95 * Self.allowedRate, "\(mode): drained at \(rate)/s of \(Self.allowedRate)/s")
            print("outage mode \(mode): resumed after \(resumedAfter) s, drained at \(rate)/s")
        }
    }

    /// One relay and simulator through one outage: the fault starts first, the messages arrive in five
    /// rounds (one per chat each, so lane order is accept order) over the first ~20 s, then the drain.
    static func ride(_ mode: FakeFault.Kind) async throws -> Outcome {
        let bed = try await TestBed(limits: .telegram)
        do {
            var fault = FakeFault(kind: mode)
            fault.duration = outageSeconds
            let recoveredAt = Date().addingTimeInterval(outageSeconds)
            try bed.telegram.addFault(fault)
            for round in 0..<perChat {
                let messages: [[String: Any]] = (0..<chats).map { chat in
                    ["chat_id": 70_000 + chat, "text": "c\(70_000 + chat)-\(round)"]
                }
                let response = try await bed.post("/messages/batch", ["messages": messages])
                #expect(response.status == 202, "\(mode): \(response.body)")
                try await Task.sleep(for: .seconds(4))
            }
            let total = chats * perChat
            _ = try await eventually(timeout: .seconds(outageSeconds + 260), every: .milliseconds(500)) {
                bed.telegram.stats().messagesDelivered >= total
            }
            try await Task.sleep(for: .seconds(2))
            let recorded = bed.telegram.messages(bot: TestBed.botID).sorted { $0.sequence < $1.sequence }
            let status = try await bed.botStatus() ?? [:]
            let outcome = Outcome(
                mode: mode, recoveredAt: recoveredAt, arrivals: recorded.map(\.receivedAt).sorted(),
                textsByChat: Dictionary(grouping: recorded, by: \.chatID).mapValues { $0.compactMap { $0.params["text"]?.stringValue } },
                status: status.compactMapValues { $0 as? Int }, limitViolations: bed.telegram.stats().limitViolations)
            try await bed.shutdown()
            return outcome
        } catch {
            try? await bed.shutdown()
            throw error
        }
    }
}
