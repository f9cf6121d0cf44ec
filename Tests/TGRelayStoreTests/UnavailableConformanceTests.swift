import Foundation
import TGRelayCore
import Testing
import TGRelayStore

@Suite("Conformance: unavailable storage")
struct UnavailableConformanceTests {
    @Test(arguments: Driver.allCases)
    func diskFullFailsTheCallAndKeepsEverythingElse(driver: Driver) async throws {
        let harness = try driver.makeHarness()
        defer { harness.remove() }
        guard let fullDisk = harness.fullDiskOptions else { return }
        var store = try await harness.open()
        let kept = try await acceptNew(store, (0..<20).map { newMessage("m\($0)", chat: "\($0 % 3)") })
        try await store.record(delivered(kept[0].id))
        try await store.close()

        store = try await harness.open(options: fullDisk)
        let big = (0..<2000).map { newMessage("big\($0)", chat: "9", key: "big\($0)", paramsPadding: 2000) }
        let error = await #expect(throws: StoreError.self) { try await store.accept(big, now: at(50)) }
        #expect(error?.isUnavailable == true)
        #expect(error?.code == .diskFull)
        #expect(error.map { !$0.description.contains("INSERT") && !$0.description.contains("big") } == true)

        // Nothing of the failed call was written, and everything before it is intact.
        #expect(try await store.pendingLanes(bot: nil).map(\.chat) == ["0", "1", "2"])
        #expect(try await store.counts() == [BotCounts(bot: "bot1", pending: 19, oldestPending: t0, delivered: 1)])
        for message in kept.dropFirst() {
            #expect(try await store.message(id: message.id) == message)
        }
        #expect(try await store.verifyLedger() == .valid(rows: 1))
        try await store.close()

        // Once there is room again, the same call goes through.
        store = try await harness.open()
        let retried = try await store.accept(big, now: at(60))
        #expect(retried.allSatisfy { if case .created = $0 { true } else { false } })
        try await store.close()
    }

    @Test(arguments: Driver.allCases)
    func readinessNeedsAStoreThatCanCommitAndGrow(driver: Driver) async throws {
        let harness = try driver.makeHarness()
        defer { harness.remove() }
        guard let fullDisk = harness.fullDiskOptions else { return }
        var store = try await harness.open()
        try await store.checkWritable(now: at(1))
        _ = try await acceptNew(store, (0..<20).map { newMessage("m\($0)", chat: "\($0 % 3)") })
        try await store.checkWritable(now: at(2))
        try await store.close()

        // Full: the file may not grow; messages are accepted until one finds no room.
        store = try await harness.open(options: fullDisk)
        var refused = false
        for index in 0..<5000 where !refused {
            do {
                _ = try await store.accept([newMessage("fill\(index)", chat: "9", key: "fill\(index)", paramsPadding: 2000)], now: at(3))
            } catch let error as StoreError where error.code == .diskFull {
                refused = true
            }
        }
        try #require(refused)
        let error = await #expect(throws: StoreError.self) { try await store.checkWritable(now: at(4)) }
        #expect(error?.code == .diskFull && error?.isUnavailable == true)
        try await store.close()

        // Room again: ready again.
        store = try await harness.open()
        try await store.checkWritable(now: at(5))
        try await store.close()
    }

    @Test(arguments: Driver.allCases)
    func aClosedStoreIsNotReady(driver: Driver) async throws {
        let harness = try driver.makeHarness()
        defer { harness.remove() }
        let store = try await harness.open()
        try await store.close()
        let error = await #expect(throws: StoreError.self) { try await store.checkWritable(now: at(1)) }
        #expect(error?.isUnavailable == true)
    }
}
