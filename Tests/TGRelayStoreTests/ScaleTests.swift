import Foundation
import TGRelayCore
import Testing
import TGRelayStore

/// Throughput and large-queue behaviour. Timings are printed, never asserted: they depend on the machine
/// and on whatever else runs beside the tests.
@Suite("Scale", .serialized)
struct ScaleTests {
    @Test(arguments: Driver.allCases)
    func groupCommitThroughput(driver: Driver) async throws {
        try await withStore(driver) { store, _ in
            let callers = 64
            let perCaller = 40
            var start = ContinuousClock.now
            try await withThrowingTaskGroup(of: Void.self) { group in
                for caller in 0..<callers {
                    group.addTask {
                        for index in 0..<perCaller {
                            _ = try await store.accept(
                                [newMessage("s\(caller)-\(index)", chat: "\(caller)", key: "s\(caller)-\(index)")], now: t0)
                        }
                    }
                }
                try await group.waitForAll()
            }
            let single = rate(callers * perCaller, since: start)
            print("[\(driver)] single-message accepts, \(callers) concurrent callers: \(single) accepts/s")

            let batches = 20
            start = ContinuousClock.now
            for batch in 0..<batches {
                _ = try await acceptNew(store, (0..<1000).map { newMessage("b\(batch)-\($0)", chat: "\($0 % 50)") })
            }
            print("[\(driver)] 1000-message batches, one caller: \(rate(batches * 1000, since: start)) messages/s")

            start = ContinuousClock.now
            try await withThrowingTaskGroup(of: Void.self) { group in
                for caller in 0..<4 {
                    group.addTask {
                        for batch in 0..<5 {
                            _ = try await acceptNew(store, (0..<1000).map { newMessage("p\(caller)-\(batch)-\($0)", chat: "\($0 % 50)") })
                        }
                    }
                }
                try await group.waitForAll()
            }
            print("[\(driver)] 1000-message batches, 4 concurrent callers: \(rate(20_000, since: start)) messages/s")

            let heads = try await store.pendingLanes(bot: nil)
            start = ContinuousClock.now
            try await withThrowingTaskGroup(of: Void.self) { group in
                for lane in heads.prefix(64) {
                    group.addTask {
                        for _ in 0..<10 {
                            let head = try #require(try await store.laneHead(lane))
                            try #require(try await store.markSending(id: head.id, now: at(1)))
                            try await store.record(delivered(head.id))
                        }
                    }
                }
                try await group.waitForAll()
            }
            print("[\(driver)] dispatch cycles (laneHead + markSending + record), 64 lanes: \(rate(640, since: start)) messages/s")
            #expect(try await store.verifyLedger() == .valid(rows: 640))
        }
    }

    /// One lane with 1,000,000 queued messages and 10,000 other lanes: the lane head and the lane list must
    /// not depend on the number of queued messages.
    @Test(arguments: Driver.allCases)
    func millionMessagesInOneLane(driver: Driver) async throws {
        try await withStore(driver) { store, _ in
            let big = LaneKey(bot: "bulk", chat: "-1001")
            var start = ContinuousClock.now
            var firstID: Int64?
            // Identical messages (no idempotency key): what is measured is the store, not building test data.
            let bulk = Array(repeating: newMessage("bulk", bot: big.bot, chat: big.chat), count: 1000)
            for _ in 0..<1000 {
                let created = try await acceptNew(store, bulk)
                firstID = firstID ?? created.first?.id
            }
            for batch in 0..<10 {
                _ = try await acceptNew(store, (0..<1000).map { newMessage("l\(batch)-\($0)", bot: "many", chat: "\(batch * 1000 + $0)") })
            }
            print("[\(driver)] inserted 1,010,000 messages in 1000-message batches: \(rate(1_010_000, since: start)) messages/s")

            start = ContinuousClock.now
            let lanes = try await store.pendingLanes(bot: nil)
            print("[\(driver)] pendingLanes(all) over \(lanes.count) lanes: \(milliseconds(since: start)) ms")
            #expect(lanes.count == 10_001)
            start = ContinuousClock.now
            #expect(try await store.pendingLanes(bot: big.bot) == [big])
            print("[\(driver)] pendingLanes(bot) with one lane: \(milliseconds(since: start)) ms")

            start = ContinuousClock.now
            for _ in 0..<1000 {
                #expect(try await store.laneHead(big)?.id == firstID)
            }
            print("[\(driver)] laneHead of the 1,000,000-message lane: \(milliseconds(since: start) / 1000) ms per call")

            let head = try #require(firstID)
            start = ContinuousClock.now
            try #require(try await store.markSending(id: head, now: at(1)))
            try await store.record(delivered(head))
            #expect(try await store.laneHead(big)?.id == head + 1)
            print("[\(driver)] markSending + record + next laneHead in the big lane: \(milliseconds(since: start)) ms")

            start = ContinuousClock.now
            let counts = try await store.counts()
            print("[\(driver)] counts(): \(milliseconds(since: start)) ms")
            #expect(counts.map(\.pending) == [999_999, 10_000])
        }
    }

    private func rate(_ count: Int, since start: ContinuousClock.Instant) -> Int {
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return Int(Double(count) / seconds)
    }

    private func milliseconds(since start: ContinuousClock.Instant) -> Double {
        let elapsed = ContinuousClock.now - start
        return (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18) * 1000
    }
}
