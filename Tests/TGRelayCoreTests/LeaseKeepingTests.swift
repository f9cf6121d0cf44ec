import Foundation
import Testing
import TGRelayCore

@Suite struct LeaseKeepingTests {
    let settings = LeaseKeeping.Settings(duration: 10)
    let bots = ["alpha", "beta", "gamma"]

    @Test func renewsFourTimesPerLeaseAndTrustsItUntilAMarginBeforeExpiry() {
        #expect(settings.renewInterval == 2.5)
        #expect(settings.margin == 1)
        #expect(LeaseKeeping.Settings(duration: 2).margin == 0.4)
        var keeping = LeaseKeeping(node: "a", settings: settings)
        #expect(keeping.acquired("alpha", epoch: 1, requestedAt: at(0), expiresAt: at(10)) == [.start("alpha")])
        #expect(keeping.nextExpiry == at(9))
        #expect(keeping.expire(now: at(8.9)).isEmpty)
        #expect(keeping.expire(now: at(9)) == [.stop("alpha")])
        #expect(!keeping.holds("alpha"))
    }

    @Test func trustIsCountedFromTheRequestNotFromAnExpiryInTheFuture() {
        // A node whose clock is behind the database's writer still stops a duration after it asked.
        var keeping = LeaseKeeping(node: "a", settings: settings)
        _ = keeping.acquired("alpha", epoch: 1, requestedAt: at(0), expiresAt: at(30))
        #expect(keeping.nextExpiry == at(9))
    }

    @Test func aRenewalMovesTheTrustForwardWithoutRestarting() {
        var keeping = LeaseKeeping(node: "a", settings: settings)
        _ = keeping.acquired("alpha", epoch: 1, requestedAt: at(0), expiresAt: at(10))
        #expect(keeping.acquired("alpha", epoch: 1, requestedAt: at(2.5), expiresAt: at(12.5)).isEmpty)
        #expect(keeping.expire(now: at(9)).isEmpty)
        #expect(keeping.nextExpiry == at(11.5))
    }

    @Test func aNewEpochOnRenewalMeansTheLeaseLapsedMeanwhile() {
        var keeping = LeaseKeeping(node: "a", settings: settings)
        _ = keeping.acquired("alpha", epoch: 1, requestedAt: at(0), expiresAt: at(10))
        #expect(keeping.acquired("alpha", epoch: 3, requestedAt: at(9.5), expiresAt: at(19.5)) == [.stop("alpha"), .start("alpha")])
        #expect(keeping.holds("alpha"))
    }

    @Test func refusalStopsAHeldBotAndIsSilentOtherwise() {
        var keeping = LeaseKeeping(node: "a", settings: settings)
        #expect(keeping.refused("alpha").isEmpty)
        _ = keeping.acquired("alpha", epoch: 1, requestedAt: at(0), expiresAt: at(10))
        #expect(keeping.refused("alpha") == [.stop("alpha")])
        #expect(keeping.heldBots.isEmpty)
    }

    @Test func aLoneNodeTakesEveryFreeBot() {
        let keeping = LeaseKeeping(node: "a", settings: settings)
        let plan = keeping.plan(bots: bots, leases: [:], liveNodes: 1, now: at(0))
        #expect(Set(plan.acquire) == Set(bots))
        #expect(plan.renew.isEmpty)
        #expect(plan.handOff == nil)
    }

    @Test func botsHeldByOthersAreLeftAloneUntilTheirLeaseExpires() {
        let keeping = LeaseKeeping(node: "a", settings: settings)
        let leases: [String: (node: String, expiresAt: Date)] = ["alpha": ("b", at(10)), "beta": ("b", at(5)), "gamma": ("a", at(10))]
        let plan = keeping.plan(bots: bots, leases: leases, liveNodes: 1, now: at(6))
        // beta's lease lapsed; gamma's row is this node's own (a restart under the same name).
        #expect(Set(plan.acquire) == ["beta", "gamma"])
    }

    @Test func nodesTakeAtMostAFairShare() {
        #expect(LeaseKeeping.fairShare(bots: 3, nodes: 3) == 1)
        #expect(LeaseKeeping.fairShare(bots: 3, nodes: 2) == 2)
        #expect(LeaseKeeping.fairShare(bots: 3, nodes: 0) == 3)
        #expect(LeaseKeeping.fairShare(bots: 0, nodes: 2) == 0)
        var keeping = LeaseKeeping(node: "a", settings: settings)
        _ = keeping.acquired("alpha", epoch: 1, requestedAt: at(0), expiresAt: at(10))
        let plan = keeping.plan(bots: bots, leases: ["alpha": ("a", at(10))], liveNodes: 3, now: at(1))
        #expect(plan.acquire.isEmpty)
        #expect(plan.renew == ["alpha"])
        #expect(plan.handOff == nil)
    }

    @Test func aNodeAboveItsShareHandsOneBotOffPerRound() {
        var keeping = LeaseKeeping(node: "a", settings: settings)
        for bot in bots { _ = keeping.acquired(bot, epoch: 1, requestedAt: at(0), expiresAt: at(10)) }
        let leases = Dictionary(uniqueKeysWithValues: bots.map { ($0, (node: "a", expiresAt: at(10))) })
        let plan = keeping.plan(bots: bots, leases: leases, liveNodes: 3, now: at(1))
        #expect(plan.handOff == "gamma")
        #expect(plan.renew == ["alpha", "beta"])
        keeping.released("gamma")
        #expect(keeping.plan(bots: bots, leases: leases, liveNodes: 3, now: at(2)).handOff == "beta")
        // Alone again: nothing to hand off, and the free bots come back.
        let alone = keeping.plan(bots: bots, leases: ["alpha": ("a", at(10)), "beta": ("a", at(10))], liveNodes: 1, now: at(2))
        #expect(alone.handOff == nil)
        #expect(alone.acquire == ["gamma"])
    }

    @Test func nodesStartTheirSearchAtDifferentBots() {
        let starts = Set(["node-1", "node-2", "node-3", "node-4"].map { node in
            LeaseKeeping(node: node, settings: settings).plan(bots: bots, leases: [:], liveNodes: 3, now: at(0)).acquire
        })
        #expect(starts.count > 1)
        #expect(starts.allSatisfy { $0.count == 1 })
    }
}
