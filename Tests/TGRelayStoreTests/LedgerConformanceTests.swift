import Foundation
import TGRelayCore
import Testing
@testable import TGRelayStore

@Suite("Conformance: ledger")
struct LedgerConformanceTests {
    /// Five ledger rows (seq 1...5) over two bots and chats, at seconds 1...5.
    private func fill(_ store: any MessageStore) async throws -> [OutboundMessage] {
        let m = try await acceptNew(store, [newMessage("a", chat: "1"), newMessage("b", chat: "2"), newMessage("c", bot: "bot2", chat: "1")])
        try await store.record(attempt(m[0].id, at: at(1), status: .waiting, description: "Internal Server Error", notBefore: at(2), lastError: "5xx"))
        try await store.record(delivered(m[0].id, at: at(2), telegramID: 11))
        try await store.record(attempt(m[1].id, at: at(3), status: .waiting, counts: false, httpStatus: 429, description: "Too Many Requests"))
        try await store.record(attempt(m[2].id, at: at(4), status: .waiting, httpStatus: nil, ambiguous: true))
        try await store.record(delivered(m[1].id, at: at(5), telegramID: 12))
        return m
    }

    @Test(arguments: Driver.allCases)
    func entriesCarryTheAttemptAndTheMessage(driver: Driver) async throws {
        try await withStore(driver) { store, _ in
            #expect(try await store.verifyLedger() == .valid(rows: 0))
            let m = try await fill(store)
            let all = try await store.ledger(LedgerQuery())
            #expect(all.map(\.seq) == [1, 2, 3, 4, 5])
            #expect(all[0].prevHash == String(repeating: "0", count: 64))
            for index in 1..<all.count {
                #expect(all[index].prevHash == all[index - 1].hash)
            }
            #expect(Set(all.map(\.hash)).count == 5)
            #expect(all.allSatisfy { $0.hash.count == 64 && $0.hash.allSatisfy(\.isHexDigit) })

            let first = all[0]
            #expect(first.at == at(1))
            #expect(first.messageID == m[0].id)
            #expect(first.bot == "bot1")
            #expect(first.chat == "1")
            #expect(first.method == "sendMessage")
            #expect(first.payloadHash == "hash-a")
            #expect(first.endpoint == "https://api.telegram.org")
            #expect(first.httpStatus == 500)
            #expect(!first.ok)
            #expect(first.errorCode == 500)
            #expect(first.description == "Internal Server Error")
            #expect(first.retryAfter == nil)
            #expect(first.telegramMessageIDs.isEmpty)
            #expect(first.durationMs == 12.5)
            #expect(first.responseBody == #"{"ok":false}"#)
            #expect(first.outcome == "waiting")
            #expect(!first.ambiguous)
            #expect(all[1].ok)
            #expect(all[1].telegramMessageIDs == [11])
            #expect(all[3].httpStatus == nil)
            #expect(all[3].ambiguous)

            #expect(try await store.ledger(LedgerQuery(messageID: m[0].id)).map(\.seq) == [1, 2])
            #expect(try await store.ledger(LedgerQuery(bot: "bot2")).map(\.seq) == [4])
            #expect(try await store.ledger(LedgerQuery(chat: "1")).map(\.seq) == [1, 2, 4])
            #expect(try await store.ledger(LedgerQuery(chat: "1", bot: "bot1")).map(\.seq) == [1, 2])
            #expect(try await store.ledger(LedgerQuery(since: at(2), until: at(5))).map(\.seq) == [2, 3, 4])
            let page1 = try await store.ledger(LedgerQuery(limit: 2))
            let page2 = try await store.ledger(LedgerQuery(afterSeq: page1.last?.seq, limit: 2))
            let page3 = try await store.ledger(LedgerQuery(afterSeq: page2.last?.seq, limit: 2))
            #expect((page1 + page2 + page3) == all)
            #expect(try await store.verifyLedger() == .valid(rows: 5))
        }
    }

    @Test(arguments: Driver.allCases)
    func anEditedRowBreaksTheChainAtThatRow(driver: Driver) async throws {
        for (sql, seq) in [
            ("UPDATE ledger SET description = 'all fine' WHERE seq = 3", Int64(3)),
            ("UPDATE ledger SET ok = 1 WHERE seq = 1", 1),
            ("UPDATE ledger SET response_body = NULL WHERE seq = 5", 5),
            ("UPDATE ledger SET chat = '2' WHERE seq = 4", 4),
        ] {
            try await withStore(driver) { store, harness in
                _ = try await fill(store)
                try await harness.tamper(sql, on: store)
                guard case .broken(let at, _) = try await store.verifyLedger() else {
                    Issue.record("\(sql) was not detected")
                    return
                }
                #expect(at == seq, "\(sql)")
            }
        }
    }

    @Test(arguments: Driver.allCases)
    func deletedOrReorderedRowsBreakTheChain(driver: Driver) async throws {
        for (sql, seq) in [
            ("DELETE FROM ledger WHERE seq = 3", Int64(3)),
            ("DELETE FROM ledger WHERE seq = 1", 1),
            ("DELETE FROM ledger WHERE seq >= 4", 4),
            ("UPDATE ledger SET seq = seq + 10 WHERE seq = 2; UPDATE ledger SET seq = 2 WHERE seq = 3; UPDATE ledger SET seq = 3 WHERE seq = 12", 2),
            // Rehashing a row is not enough: the next row's link no longer matches.
            ("UPDATE ledger SET hash = 'f' || substr(hash, 2) WHERE seq = 2", 2),
        ] {
            try await withStore(driver) { store, harness in
                _ = try await fill(store)
                try await harness.tamper(sql, on: store)
                guard case .broken(let at, let reason) = try await store.verifyLedger() else {
                    Issue.record("\(sql) was not detected")
                    return
                }
                #expect(at == seq, "\(sql): \(reason)")
            }
        }
    }

    @Test(arguments: Driver.allCases)
    func pruningKeepsTheRestVerifiable(driver: Driver) async throws {
        try await withStore(driver) { store, harness in
            _ = try await fill(store)
            #expect(try await store.pruneLedger(before: at(1)) == 0)
            #expect(try await store.pruneLedger(before: at(3)) == 2)
            #expect(try await store.ledger(LedgerQuery()).map(\.seq) == [3, 4, 5])
            #expect(try await store.verifyLedger() == .valid(rows: 3))
            #expect(try await store.pruneLedger(before: at(3)) == 0)
            let m = try await acceptOne(store, newMessage("z"))
            try await store.record(delivered(m.id, at: at(6)))
            #expect(try await store.verifyLedger() == .valid(rows: 4))

            try await harness.tamper("UPDATE ledger SET outcome = 'delivered' WHERE seq = 4", on: store)
            let error = await #expect(throws: StoreError.self) { try await store.pruneLedger(before: at(10)) }
            #expect(error?.code == .ledgerBroken)
            #expect(try await store.ledger(LedgerQuery()).count == 4)
            guard case .broken(atSeq: 4, _) = try await store.verifyLedger() else {
                Issue.record("expected the chain to break at 4")
                return
            }
        }
    }

    @Test(arguments: Driver.allCases)
    func keyedChatIDs(driver: Driver) async throws {
        let options = StoreConfiguration.Options(ledgerChatKey: Array("ledger secret".utf8))
        try await withStore(driver, options: options) { store, _ in
            _ = try await fill(store)
            let rows = try await store.ledger(LedgerQuery(chat: "1"))
            #expect(rows.map(\.seq) == [1, 2, 4])
            #expect(rows.allSatisfy { $0.chat.hasPrefix("hmac:") && !$0.chat.contains(":1") })
            #expect(try await store.ledger(LedgerQuery(chat: "2")).map(\.seq) == [3, 5])
            #expect(try await store.verifyLedger() == .valid(rows: 5))

            // Telegram's answer echoes the chat and the users it names: the ledger keeps them keyed too.
            let m = try await acceptNew(store, [newMessage("reply", chat: "4242"), newMessage("moved", chat: "-4343")])
            var reply = delivered(m[0].id, at: at(6), telegramID: 13)
            reply.responseBody = """
                {"ok":true,"result":{"message_id":13,"chat":{"id":4242,"first_name":"Ada","username":"ada_l","type":"private"},\
                "from":{"id":100200300,"is_bot":true,"first_name":"Relay Bot","username":"relay_bot"},"text":"reply",\
                "reply_to_message":{"message_id":9,"from":{"id":4242,"is_bot":false,"first_name":"Ada"},"text":"hi"}}}
                """
            var moved = attempt(m[1].id, at: at(7), status: .failed, httpStatus: 400, description: "Bad Request: group chat was upgraded")
            moved.responseBody = #"{"ok":false,"error_code":400,"parameters":{"migrate_to_chat_id":-1004343}}"#
            try await store.record(reply)
            try await store.record(moved)
            let bodies = try await store.ledger(LedgerQuery()).suffix(2).map { $0.responseBody ?? "" }
            for text in ["4242", "Ada", "ada_l", "100200300", "1004343"] {
                #expect(!bodies.joined().contains(text), "\(text) in \(bodies)")
            }
            let answer = try #require(try JSONSerialization.jsonObject(with: Data(bodies[0].utf8)) as? [String: Any])
            let result = try #require(answer["result"] as? [String: Any])
            let chat = try #require(result["chat"] as? [String: Any])
            #expect(chat["id"] as? String == LedgerHash.keyedChat("4242", key: Array("ledger secret".utf8)))
            #expect(chat["type"] as? String == "private")
            #expect((result["from"] as? [String: Any])?["is_bot"] as? Bool == true)
            #expect(((result["reply_to_message"] as? [String: Any])?["from"] as? [String: Any])?["id"] as? String == chat["id"] as? String)
            #expect(result["text"] as? String == "reply")
            #expect(bodies[1].contains("hmac:"))
            #expect(try await store.verifyLedger() == .valid(rows: 7))
        }
    }
}
