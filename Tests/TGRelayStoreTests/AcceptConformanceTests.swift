import Foundation
import TGRelayCore
import Testing
import TGRelayStore

@Suite("Conformance: accept and idempotency")
struct AcceptConformanceTests {
    @Test(arguments: Driver.allCases)
    func acceptStoresQueuedMessagesInOrder(driver: Driver) async throws {
        try await withStore(driver) { store, _ in
            let deadline = at(600)
            let created = try await acceptNew(
                store, [newMessage("a"), newMessage("b", chat: "-1002", atMostOnce: true, deadline: deadline)])
            #expect(created.count == 2)
            #expect(created[0].id < created[1].id)
            #expect(created[0].status == .queued)
            #expect(created[0].attempts == 0)
            #expect(created[0].createdAt == t0)
            #expect(created[0].updatedAt == t0)
            #expect(created[1].deadline == deadline)
            #expect(created[1].atMostOnce)
            #expect(created[1].chat == "-1002")
            for message in created {
                #expect(try await store.message(id: message.id) == message)
            }
            #expect(try await store.message(id: 999_999) == nil)
            #expect(try await store.accept([], now: t0).isEmpty)
        }
    }

    @Test(arguments: Driver.allCases)
    func idempotencyKeyIsScopedPerBot(driver: Driver) async throws {
        try await withStore(driver) { store, _ in
            let first = try await acceptOne(store, newMessage("a", key: "k1"))
            let again = try await store.accept([newMessage("a", key: "k1")], now: at(5))
            #expect(again == [.existing(first)])
            let different = try await store.accept([newMessage("other", key: "k1")], now: at(5))
            #expect(different == [.conflict(existingID: first.id)])
            let otherBot = try await acceptOne(store, newMessage("a", bot: "bot2", key: "k1"))
            #expect(otherBot.id != first.id)
            // The existing message is returned as it is now, not as it was accepted.
            try await store.markSending(id: first.id, now: at(6))
            guard case .existing(let now)? = try await store.accept([newMessage("a", key: "k1")], now: at(7)).first else {
                Issue.record("expected .existing")
                return
            }
            #expect(now.status == .sending)
        }
    }

    @Test(arguments: Driver.allCases)
    func duplicateKeysWithinOneBatch(driver: Driver) async throws {
        try await withStore(driver) { store, _ in
            let results = try await store.accept(
                [newMessage("a", key: "k"), newMessage("a", key: "k"), newMessage("b", key: "k"), newMessage("c")],
                now: t0)
            guard case .created(let first) = results[0], case .created = results[3] else {
                Issue.record("expected .created, got \(results)")
                return
            }
            #expect(results[1] == .existing(first))
            #expect(results[2] == .conflict(existingID: first.id))
            #expect(try await store.pendingLanes(bot: nil) == [LaneKey(bot: "bot1", chat: "100")])
            #expect(try await store.counts().first?.pending == 2)
        }
    }

    @Test(arguments: Driver.allCases)
    func concurrentIdenticalAcceptsYieldOneMessage(driver: Driver) async throws {
        try await withStore(driver) { store, _ in
            let results = try await withThrowingTaskGroup(of: AcceptResult.self) { group in
                for _ in 0..<100 {
                    group.addTask { try await store.accept([newMessage("same", key: "dup")], now: t0)[0] }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            var ids = Set<Int64>()
            var createdCount = 0
            for result in results {
                switch result {
                case .created(let message):
                    createdCount += 1
                    ids.insert(message.id)
                case .existing(let message): ids.insert(message.id)
                case .conflict: Issue.record("identical payloads must not conflict")
                }
            }
            #expect(createdCount == 1)
            #expect(ids.count == 1)
            #expect(try await store.counts() == [BotCounts(bot: "bot1", pending: 1, oldestPending: t0)])
        }
    }

    /// Small concurrent accepts (which the SQLite driver merges into one insert per commit) each get their
    /// own answer: new messages, repeats of a key with the same payload, reuses with another payload.
    @Test(arguments: Driver.allCases)
    func concurrentSmallAcceptsEachGetTheirOwnResults(driver: Driver) async throws {
        try await withStore(driver) { store, _ in
            let results = try await withThrowingTaskGroup(of: (Int, [AcceptResult]).self) { group in
                for index in 0..<120 {
                    group.addTask {
                        let messages: [NewMessage] = switch index % 4 {
                        case 0: [newMessage("plain \(index)", chat: "\(index % 7)")]
                        case 1: [newMessage("pair \(index / 4)", key: "pair-\(index / 4)"), newMessage("two \(index)")]
                        case 2: [newMessage("pair \(index / 4)", key: "pair-\(index / 4)")]
                        default: [newMessage("other \(index)", key: "pair-\(index / 4)")]
                        }
                        return (index, try await store.accept(messages, now: t0))
                    }
                }
                return try await group.reduce(into: [:]) { $0[$1.0] = $1.1 }
            }
            var created: [Int64] = []
            for pair in 0..<30 {
                // Whichever of the three calls with the key came first created the message.
                let withKey = [results[pair * 4 + 1]![0], results[pair * 4 + 2]![0], results[pair * 4 + 3]![0]]
                let original = withKey.compactMap { if case .created(let message) = $0 { message } else { nil } }
                guard original.count == 1 else {
                    Issue.record("key pair-\(pair): \(withKey)")
                    continue
                }
                created.append(original[0].id)
                // The later calls find it: the same payload gets it back, the other payload a conflict.
                let payloads = ["hash-pair \(pair)", "hash-pair \(pair)", "hash-other \(pair * 4 + 3)"]
                for (result, payload) in zip(withKey, payloads) {
                    switch result {
                    case .created(let message): #expect(message.payloadHash == payload)
                    case .existing(let message):
                        #expect(message.id == original[0].id && payload == original[0].payloadHash)
                    case .conflict(let id): #expect(id == original[0].id && payload != original[0].payloadHash)
                    }
                }
                for index in [pair * 4, pair * 4 + 1] {
                    guard case .created(let message) = results[index]!.last! else {
                        Issue.record("call \(index): \(results[index]!)")
                        continue
                    }
                    created.append(message.id)
                }
            }
            #expect(Set(created).count == 90)
            let counts = try await store.counts()
            #expect(counts.first?.pending == 90)
        }
    }

    @Test(arguments: Driver.allCases)
    func oneFailingCallDoesNotFailOthersInItsGroup(driver: Driver) async throws {
        try await withStore(driver) { store, _ in
            let outcomes = try await withThrowingTaskGroup(of: Bool.self) { group in
                for index in 0..<40 {
                    group.addTask { try await acceptOne(store, newMessage("m\(index)", chat: "\(index)")).status == .queued }
                }
                group.addTask {
                    do {
                        try await store.record(attempt(424_242, status: .delivered))
                        return false
                    } catch let error as StoreError {
                        return error.code == .notFound && !error.isUnavailable
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(outcomes.count == 41)
            #expect(outcomes.allSatisfy { $0 })
            #expect(try await store.pendingLanes(bot: "bot1").count == 40)
            #expect(try await store.ledger(LedgerQuery()).isEmpty)
        }
    }

    @Test(arguments: Driver.allCases)
    func everythingSurvivesCloseAndReopen(driver: Driver) async throws {
        let harness = try driver.makeHarness()
        defer { harness.remove() }
        var store = try await harness.open()
        let messages = try await acceptNew(store, [newMessage("a", key: "k"), newMessage("b"), newMessage("c", chat: "-5")])
        try await store.markSending(id: messages[0].id, now: at(1))
        try await store.record(delivered(messages[0].id, at: at(2)))
        try await store.record(failed(messages[1].id, reason: "Bad Request: chat not found", at: at(3)))
        try await store.migrateChat(bot: "bot1", from: "-5", to: "-1005", now: at(4))
        try await store.setChatInactive(bot: "bot1", chat: "300", reason: "Forbidden: bot was blocked by the user", now: at(5))
        let before = try await (store.message(id: messages[0].id), store.message(id: messages[2].id), store.ledger(LedgerQuery()))
        try await store.close()

        store = try await harness.open()
        #expect(try await store.message(id: messages[0].id) == before.0)
        #expect(try await store.message(id: messages[2].id) == before.1)
        #expect(try await store.message(id: messages[2].id)?.chat == "-1005")
        #expect(try await store.ledger(LedgerQuery()) == before.2)
        #expect(try await store.verifyLedger() == .valid(rows: 2))
        #expect(try await store.deadLetters(DeadLetterFilter()).map(\.id) == [messages[1].id])
        #expect(try await store.chatMigration(bot: "bot1", chat: "-5") == "-1005")
        #expect(try await store.inactiveReason(bot: "bot1", chat: "300") == "Forbidden: bot was blocked by the user")
        #expect(try await store.pendingLanes(bot: nil) == [LaneKey(bot: "bot1", chat: "-1005")])
        #expect(try await store.accept([newMessage("a", key: "k")], now: at(9)) == [.existing(before.0!)])
        let later = try await acceptOne(store, newMessage("d"))
        #expect(later.id > messages[2].id)
        // The new message still goes after the migrated one in the shared seq order.
        try await store.migrateChat(bot: "bot1", from: "100", to: "-1005", now: at(10))
        #expect(try await drain(store, LaneKey(bot: "bot1", chat: "-1005")) == [messages[2].id, later.id])
        try await store.close()
    }

    @Test(arguments: Driver.allCases)
    func callsAfterCloseThrowClosed(driver: Driver) async throws {
        let harness = try driver.makeHarness()
        defer { harness.remove() }
        let store = try await harness.open()
        _ = try await acceptOne(store, newMessage())
        try await store.close()
        try await store.close()
        let error = await #expect(throws: StoreError.self) { try await store.accept([newMessage("b")], now: t0) }
        #expect(error?.code == .closed)
        #expect(error?.isUnavailable == true)
        await #expect(throws: StoreError.self) { try await store.message(id: 1) }
    }
}
