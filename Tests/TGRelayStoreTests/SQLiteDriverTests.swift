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

    /// Small accepts arriving together are stored by one merged insert; when that fails, each call runs
    /// again alone, so only the call the database refuses fails, and the others are stored as if alone.
    @Test func aRefusedCallAmongMergedAcceptsFailsAlone() async throws {
        let harness = try SQLiteHarness()
        defer { harness.remove() }
        let store = try #require(try await harness.open() as? SQLiteMessageStore)
        try await store.pool.write { db in
            try db.execute(sql: """
                CREATE TRIGGER refuse BEFORE INSERT ON message WHEN NEW.chat = 'refused'
                BEGIN SELECT RAISE(ABORT, 'refused by the test'); END
                """)
        }
        let outcomes = try await withThrowingTaskGroup(of: (String, Bool).self) { group in
            for index in 0..<60 {
                let chat = index == 30 ? "refused" : "\(index % 5)"
                group.addTask {
                    do {
                        let stored = try await acceptNew(store, [newMessage("m\(index)", chat: chat)])
                        return (chat, stored.count == 1)
                    } catch is StoreError {
                        return (chat, false)
                    }
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(outcomes.filter { !$0.1 }.map(\.0) == ["refused"])
        #expect(try await store.counts().first?.pending == 59)
        #expect(try await store.pendingLanes(bot: "bot1").count == 5)
        try await store.close()
    }

    /// Under writes that never pause, the background checkpoint always ends behind the writer; the writer
    /// then copies the rest between two commits so that the WAL starts over instead of growing by every
    /// commit. 160 MB go through the WAL here while eight callers keep the writer busy throughout.
    @Test func theWALStartsOverUnderContinuousWrites() async throws {
        let harness = try SQLiteHarness()
        defer { harness.remove() }
        let store = try #require(try await harness.open() as? SQLiteMessageStore)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for writer in 0..<8 {
                group.addTask {
                    for round in 0..<200 {
                        let batch = (0..<50).map { newMessage("w\(writer)-\(round)-\($0)", chat: "\($0)", paramsPadding: 2_000) }
                        _ = try await acceptNew(store, batch)
                    }
                }
            }
            try await group.waitForAll()
        }
        let wal = try FileManager.default.attributesOfItem(atPath: harness.path + "-wal")[.size] as? Int ?? 0
        #expect(wal < 80 << 20, "WAL of \(wal) bytes after 160 MB of messages: at most half of it")
        try await store.close()
    }

    /// A message stored `sending` before the mark table existed (v9) keeps its mark across the upgrade:
    /// it reads as `sending` with its time and is recovered as ambiguous like any interrupted send.
    @Test func messagesSendingBeforeTheUpgradeKeepTheirMark() async throws {
        let harness = try SQLiteHarness()
        defer { harness.remove() }
        let old = try DatabaseQueue(path: harness.path)
        try SQLiteSchema.migrator.migrate(old, upTo: "v9-nodes")
        try await old.write { db in
            for (id, status) in [(1, "sending"), (2, "queued")] {
                try db.execute(sql: """
                    INSERT INTO message (id, seq, bot, chat, method, params, payload_hash, status, at_most_once, created_at, updated_at)
                    VALUES (?, ?, 'bot1', '100', 'sendMessage', '{}', 'h', ?, 0, 1000, ?)
                    """, arguments: [id, id, status, 1000 + id])
            }
            try db.execute(sql: "INSERT INTO lane (bot, chat, pending) VALUES ('bot1', '100', 2)")
            try db.execute(sql: "INSERT INTO bot_status_count (bot, status, n) VALUES ('bot1', 'sending', 1), ('bot1', 'queued', 1)")
        }
        try old.close()

        let store = try #require(try await harness.open() as? SQLiteMessageStore)
        let sending = try #require(try await store.message(id: 1))
        #expect(sending.status == .sending)
        #expect(sending.updatedAt == Date(storeMillis: 1001))
        #expect(try await store.message(id: 2)?.status == .queued)
        #expect(try await store.counts().first?.pending == 2)
        #expect(try await store.recoverInterruptedSends(bot: "bot1", now: at(5)) == 1)
        let recovered = try #require(try await store.message(id: 1))
        #expect(recovered.status == .waiting && recovered.ambiguous)
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
