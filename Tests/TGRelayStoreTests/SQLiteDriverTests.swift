import Foundation
import Testing
@testable import TGRelayStore

/// What is specific to the SQLite driver (the conformance suite covers the behaviour).
@Suite("SQLite driver")
struct SQLiteDriverTests {
    @Test func writesAreDurableWALWithFullSync() async throws {
        let harness = try SQLiteHarness()
        defer { harness.remove() }
        let store = try #require(try await harness.open() as? SQLiteMessageStore)
        let settings = try await store.writerSettings()
        #expect(settings.journalMode == "wal")
        #expect(settings.synchronous == 2)
        try await store.close()
    }

    @Test func unopenableDatabaseIsUnavailable() async throws {
        let error = await #expect(throws: StoreError.self) {
            _ = try await makeStore(.sqlite(path: "/nonexistent-\(UUID().uuidString)/relay.db"))
        }
        #expect(error?.code == .cannotOpen)
        #expect(error?.isUnavailable == true)
        #expect(error.map { !$0.description.contains("nonexistent") } == true)
    }

    @Test func notADatabaseIsCorruptNotUnavailable() async throws {
        let harness = try SQLiteHarness()
        defer { harness.remove() }
        try Data(repeating: 0x41, count: 8192).write(to: URL(fileURLWithPath: harness.path))
        let error = await #expect(throws: StoreError.self) { _ = try await harness.open() }
        #expect(error?.code == .corrupt)
        #expect(error?.isUnavailable == false)
    }
}
