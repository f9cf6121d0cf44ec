import Foundation
import TGRelayCore
import Testing
@testable import TGRelayStore

/// What is specific to the PostgreSQL driver: several stores (nodes) on one database, an unreachable
/// server, and secrets in the URL. The conformance suite covers the behaviour.
@Suite("PostgreSQL driver", .enabled(if: Driver.allCases.contains(.postgres)))
struct PostgresDriverTests {
    @Test func urlParsingKeepsThePasswordOutOfDescriptions() throws {
        let settings = try PostgresConnectionSettings(url: "postgres://relay:s3cr%40t@db.internal:6543/tg?sslmode=require")
        #expect(settings.host == "db.internal")
        #expect(settings.port == 6543)
        #expect(settings.username == "relay")
        #expect(settings.database == "tg")
        #expect(settings.tls == .require)
        #expect(!settings.description.contains("s3cr"))
        #expect(try StoreConfiguration.postgres(url: "postgres://relay:s3cr3t@db/tg").location.contains("***"))

        for bad in ["mysql://relay:s3cr3t@db/tg", "postgres://relay:s3cr3t@db/tg?sslmode=sometimes", "not a url"] {
            let error = #expect(throws: StoreError.self) { try PostgresConnectionSettings(url: bad) }
            #expect(error?.code == .invalidConfiguration)
            #expect(error.map { !$0.description.contains("s3cr3t") } == true)
        }
    }

    @Test func unreachableServerIsUnavailableWithinTheTimeout() async throws {
        let start = ContinuousClock.now
        let error = await #expect(throws: StoreError.self) {
            _ = try await makeStore(.postgres(
                url: "postgres://relay:s3cr3t@127.0.0.1:1/tg?sslmode=disable",
                options: .init(busyTimeout: .seconds(2))))
        }
        #expect(error?.isUnavailable == true)
        #expect(error.map { !$0.description.contains("s3cr3t") } == true)
        #expect(ContinuousClock.now - start < .seconds(10))
    }

    @Test func twoNodesAcceptingTheSameKeyStoreOneMessage() async throws {
        let harness = try PostgresHarness()
        defer { harness.remove() }
        let nodes = [try await harness.open(), try await harness.open()]
        let results = try await withThrowingTaskGroup(of: [AcceptResult].self) { group in
            for round in 0..<40 {
                let node = nodes[round % 2]
                group.addTask {
                    try await node.accept([newMessage("same", key: "k\(round / 2)"), newMessage("free\(round)")], now: t0)
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        let created = results.filter { if case .created(let m) = $0 { m.idempotencyKey != nil } else { false } }
        let existing = results.filter { if case .existing = $0 { true } else { false } }
        #expect(created.count == 20)
        #expect(existing.count == 20)
        #expect(try await nodes[0].counts().first?.pending == 60)
        for node in nodes {
            try await node.close()
        }
    }

    @Test func ledgerStaysVerifiableWithSeveralWriters() async throws {
        let harness = try PostgresHarness()
        defer { harness.remove() }
        let nodes = [try await harness.open(), try await harness.open(), try await harness.open()]
        let messages = try await acceptNew(nodes[0], (0..<60).map { newMessage("m\($0)", chat: "\($0 % 6)") })
        // Each node appends from several tasks at once, interleaved with the other nodes.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (index, node) in nodes.enumerated() {
                for worker in 0..<4 {
                    let mine = messages.enumerated().filter { $0.offset % 12 == index * 4 + worker }.map(\.element)
                    group.addTask {
                        for message in mine {
                            try await node.record(attempt(message.id, status: .waiting, counts: true))
                            try await node.record(delivered(message.id))
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(try await nodes[1].verifyLedger() == .valid(rows: 120))
        for node in nodes {
            try await node.close()
        }
    }

    /// Before schema v12 the claim set status `sending`; such rows (a database upgraded while messages
    /// were in flight, or a node of the older version still running) read as `sending` and are recovered.
    @Test func messagesAnOlderVersionLeftSendingAreRecovered() async throws {
        let harness = try PostgresHarness()
        defer { harness.remove() }
        var store = try await harness.open()
        let m = try await acceptNew(store, [newMessage("a"), newMessage("once", chat: "200", atMostOnce: true), newMessage("b")])
        try await harness.tamper(
            """
            ALTER TABLE message DROP COLUMN sending_since;
            CREATE INDEX message_sending ON message (bot) WHERE status = 'sending';
            DELETE FROM schema_migration WHERE name = 'v12-sending-since';
            UPDATE message SET status = 'sending' WHERE id IN (\(m[0].id), \(m[1].id));
            """, on: store)
        try await store.close()

        store = try await harness.open()
        #expect(try await store.message(id: m[0].id)?.status == .sending)
        #expect(try await store.cancel(id: m[0].id, now: at(1))?.status == .sending)
        #expect(try await store.recoverInterruptedSends(bot: "bot1", now: at(2)) == 2)
        let recovered = try await store.message(id: m[0].id)
        #expect(recovered?.status == .waiting && recovered?.ambiguous == true)
        #expect(try await store.message(id: m[1].id)?.lastError == "outcome_unknown")
        #expect(try await store.message(id: m[2].id)?.status == .queued)
        try await store.close()
    }
}
