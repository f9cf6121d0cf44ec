import Foundation
import Logging
import ServiceLifecycle
import TGRelayCore
import TGRelayStore

/// Holds this node's bot leases, so that with several nodes on one database exactly one dispatches and
/// polls for each bot (`LeaseKeeping` decides; DESIGN.md "Several nodes"). A round every quarter lease
/// notes this node alive, renews its leases, takes free bots up to a fair share and hands a surplus bot
/// off; a lease that could not be renewed in time stops its bot's work at once, checked every
/// `expiryCheck` whatever the store does.
///
/// It is the first service, so graceful shutdown reaches it last: after the dispatcher has finished its
/// sends, every lease is released and other nodes take the bots over at once instead of at expiry.
actor LeaseKeeper: Service {
    let store: any MessageStore
    let dispatcher: Dispatcher
    let bots: [String]
    let logger: Logger
    let expiryCheck: Duration = .milliseconds(100)
    private var keeping: LeaseKeeping
    private var storeFailing = false

    init(configuration: RelayConfiguration, store: any MessageStore, dispatcher: Dispatcher, logger: Logger) {
        self.store = store
        self.dispatcher = dispatcher
        self.bots = configuration.bots.map(\.name)
        self.logger = logger
        keeping = LeaseKeeping(node: configuration.nodeID, settings: .init(duration: configuration.node.leaseDuration))
    }

    func run() async throws {
        logger.info("lease keeper started", metadata: ["node": "\(keeping.node)", "lease_seconds": "\(keeping.settings.duration)"])
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                group.addTask { await self.renewLoop() }
                group.addTask { await self.expiryLoop() }
            }
        }
        await releaseAll()
    }

    private func renewLoop() async {
        while !Task.isCancelled {
            await round(now: Date())
            try? await Task.sleep(for: .seconds(keeping.settings.renewInterval))
        }
    }

    private func expiryLoop() async {
        while !Task.isCancelled {
            for action in keeping.expire(now: Date()) { await perform(action) }
            try? await Task.sleep(for: expiryCheck)
        }
    }

    /// One round against the store; a failing store only means no renewal (the expiry loop stops bots on time).
    func round(now: Date) async {
        do {
            try await store.recordHeartbeat(node: keeping.node, now: now)
            let live = try await store.liveNodes(since: now.addingTimeInterval(-keeping.settings.duration))
            let rows = try await store.leases()
            let leases = Dictionary(rows.map { ($0.bot, (node: $0.node, expiresAt: $0.expiresAt)) }) { first, _ in first }
            let plan = keeping.plan(bots: bots, leases: leases, liveNodes: live.count, now: now)
            if let bot = plan.handOff { try await handOff(bot, liveNodes: live.count) }
            for bot in plan.renew + plan.acquire {
                let requested = Date()
                let lease = try await store.acquireLease(bot: bot, node: keeping.node, now: requested, duration: keeping.settings.duration)
                let actions =
                    if let lease {
                        keeping.acquired(bot, epoch: lease.epoch, requestedAt: requested, expiresAt: lease.expiresAt)
                    } else {
                        keeping.refused(bot)
                    }
                for action in actions { await perform(action) }
            }
            if storeFailing {
                storeFailing = false
                logger.notice("bot leases are renewed again")
            }
        } catch {
            // Shutting down: the store call was cancelled, nothing failed.
            if Task.isCancelled { return }
            if !storeFailing {
                storeFailing = true
                logger.error("cannot renew bot leases: bots stop when their lease runs out", metadata: ["error": "\(error)"])
            }
        }
    }

    private func perform(_ action: LeaseKeeping.Action) async {
        switch action {
        case .start(let bot):
            do {
                try await dispatcher.takeOver(bot)
                logger.notice("bot lease taken: this node now sends and polls for the bot", metadata: ["bot": "\(bot)", "node": "\(keeping.node)"])
            } catch {
                // Given back, so another node (or the next round) can take the bot with a working store.
                logger.error("cannot take a bot over; lease given back", metadata: ["bot": "\(bot)", "error": "\(error)"])
                keeping.released(bot)
                try? await store.releaseLease(bot: bot, node: keeping.node)
            }
        case .stop(let bot):
            await dispatcher.giveUp(bot)
            logger.warning("bot lease lost: this node stopped sending for the bot", metadata: ["bot": "\(bot)", "node": "\(keeping.node)"])
        }
    }

    /// Makes room for another node: the bot's sends already out get a renewal interval to finish, then the
    /// lease is released for the next node's round to take.
    private func handOff(_ bot: String, liveNodes: Int) async throws {
        await dispatcher.giveUp(bot, waitingUntil: Date().addingTimeInterval(keeping.settings.renewInterval))
        keeping.released(bot)
        try await store.releaseLease(bot: bot, node: keeping.node)
        logger.notice("bot handed off to share the bots among the nodes", metadata: ["bot": "\(bot)", "nodes": "\(liveNodes)"])
    }

    private func releaseAll() async {
        for bot in keeping.heldBots {
            await dispatcher.giveUp(bot)
            keeping.released(bot)
            do {
                try await store.releaseLease(bot: bot, node: keeping.node)
            } catch {
                logger.warning("cannot release a bot lease at shutdown; it lapses by itself", metadata: ["bot": "\(bot)", "error": "\(error)"])
            }
        }
        logger.info("lease keeper stopped; leases released")
    }
}
