import Foundation
import GRDB
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

    /// The writer never checkpoints inside a commit; the background checkpointer copies committed pages
    /// into the database file itself, so the file alone (without its WAL) holds them soon after.
    @Test func committedPagesReachTheDatabaseFileWithoutAutomaticCheckpoints() async throws {
        let harness = try SQLiteHarness()
        defer { harness.remove() }
        let store = try #require(try await harness.open() as? SQLiteMessageStore)
        let autocheckpoint = try await store.pool.writeWithoutTransaction { db in
            try Int.fetchOne(db, sql: "PRAGMA wal_autocheckpoint")
        }
        #expect(autocheckpoint == 0)
        // Far fewer than the 1,000 WAL pages at which SQLite would checkpoint by itself.
        _ = try await acceptNew(store, (0..<50).map { newMessage("m\($0)") })
        var inFile = 0
        for _ in 0..<40 where inFile < 50 {
            try await Task.sleep(for: .milliseconds(100))
            _ = try await acceptNew(store, [newMessage("nudge-\(UUID().uuidString)", chat: "200")])
            // A copy taken while a checkpoint writes the file can be torn (unreadable): try again.
            inFile = (try? Self.messagesInDatabaseFileAlone(harness.path)) ?? 0
        }
        #expect(inFile >= 50)
        try await store.close()
    }

    /// Counts messages in a copy of the database file without its WAL: what checkpoints wrote.
    private static func messagesInDatabaseFileAlone(_ path: String) throws -> Int {
        let copy = path + ".alone"
        defer { try? FileManager.default.removeItem(atPath: copy) }
        try? FileManager.default.removeItem(atPath: copy)
        try FileManager.default.copyItem(atPath: path, toPath: copy)
        let queue = try DatabaseQueue(path: copy)
        defer { try? queue.close() }
        // Before the first checkpoint the file does not even hold the schema.
        return try queue.read { db in
            guard try db.tableExists("message") else { return 0 }
            return try Int.fetchOne(db, sql: "SELECT count(*) FROM message WHERE chat = '100'") ?? 0
        }
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
