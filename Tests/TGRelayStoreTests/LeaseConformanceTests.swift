import Foundation
import TGRelayCore
import Testing
import TGRelayStore

@Suite("Conformance: bot leases")
struct LeaseConformanceTests {
    @Test(arguments: Driver.allCases)
    func oneNodeHoldsALeaseUntilItExpires(driver: Driver) async throws {
        try await withStore(driver) { store, _ in
            let first = try await store.acquireLease(bot: "bot1", node: "a", now: t0, duration: 10)
            #expect(first == BotLease(bot: "bot1", node: "a", expiresAt: at(10), epoch: 1))
            #expect(try await store.acquireLease(bot: "bot1", node: "b", now: at(9.9), duration: 10) == nil)
            // Renewal keeps the epoch and moves the expiry.
            let renewed = try await store.acquireLease(bot: "bot1", node: "a", now: at(5), duration: 10)
            #expect(renewed == BotLease(bot: "bot1", node: "a", expiresAt: at(15), epoch: 1))
            #expect(try await store.acquireLease(bot: "bot1", node: "b", now: at(12), duration: 10) == nil)
            // Expired: another node takes it over, with a new epoch; the old holder cannot renew.
            let takenOver = try await store.acquireLease(bot: "bot1", node: "b", now: at(15), duration: 10)
            #expect(takenOver == BotLease(bot: "bot1", node: "b", expiresAt: at(25), epoch: 2))
            #expect(try await store.acquireLease(bot: "bot1", node: "a", now: at(16), duration: 10) == nil)
            // Other bots are independent.
            #expect(try await store.acquireLease(bot: "bot2", node: "a", now: at(16), duration: 10)?.epoch == 1)
            #expect(try await store.leases().map(\.node) == ["b", "a"])
        }
    }

    @Test(arguments: Driver.allCases)
    func releasedLeaseIsFreeAtOnce(driver: Driver) async throws {
        try await withStore(driver) { store, _ in
            _ = try await store.acquireLease(bot: "bot1", node: "a", now: t0, duration: 10)
            try await store.releaseLease(bot: "bot1", node: "b")  // not the holder: nothing happens
            #expect(try await store.acquireLease(bot: "bot1", node: "b", now: at(1), duration: 10) == nil)
            try await store.releaseLease(bot: "bot1", node: "a")
            #expect(try await store.acquireLease(bot: "bot1", node: "b", now: at(1), duration: 10)?.epoch == 2)
            // The same node coming back after a gap is a takeover too: it must recover interrupted sends.
            try await store.releaseLease(bot: "bot1", node: "b")
            #expect(try await store.acquireLease(bot: "bot1", node: "b", now: at(2), duration: 10)?.epoch == 3)
        }
    }

    @Test(arguments: Driver.allCases)
    func takeoverRecoversOnlyThatBotsInterruptedSends(driver: Driver) async throws {
        try await withStore(driver) { store, _ in
            let one = try await acceptOne(store, newMessage("one"))
            let once = try await acceptOne(store, newMessage("once", chat: "7", atMostOnce: true))
            let other = try await acceptOne(store, newMessage("other", bot: "bot2"))
            for message in [one, once, other] {
                #expect(try await store.markSending(id: message.id, now: at(1)))
            }
            #expect(try await store.recoverInterruptedSends(bot: "bot1", now: at(2)) == 2)
            let recovered = try await store.message(id: one.id)
            #expect(recovered?.status == .waiting)
            #expect(recovered?.ambiguous == true)
            #expect(try await store.message(id: once.id)?.lastError == "outcome_unknown")
            #expect(try await store.message(id: other.id)?.status == .sending)
        }
    }

    @Test(arguments: Driver.allCases)
    func liveNodesAreThoseWithARecentHeartbeat(driver: Driver) async throws {
        try await withStore(driver) { store, _ in
            #expect(try await store.liveNodes(since: t0).isEmpty)
            try await store.recordHeartbeat(node: "b", now: at(1))
            try await store.recordHeartbeat(node: "a", now: at(2))
            try await store.recordHeartbeat(node: "c", now: at(3))
            #expect(try await store.liveNodes(since: at(1)) == ["a", "b", "c"])
            // A heartbeat moves the node's time forward; the others age out.
            try await store.recordHeartbeat(node: "b", now: at(12))
            #expect(try await store.liveNodes(since: at(2.5)) == ["b", "c"])
            #expect(try await store.liveNodes(since: at(5)) == ["b"])
            // Nodes silent for a day are forgotten (node names change with hosts; rows would pile up).
            try await store.recordHeartbeat(node: "b", now: at(3.5 + LeaseStoreLimits.forgetNodesAfter))
            #expect(try await store.liveNodes(since: t0) == ["b"])
        }
    }
}
