import AsyncHTTPClient
import Foundation
import Logging
import ServiceLifecycle
import TGRelayCore
import TGRelayStore

/// Pushes stored updates to the app's URL (set by `setWebhook` on the relay's proxy): the update's own JSON,
/// as Telegram would POST it, with `X-Telegram-Bot-Api-Secret-Token` when the app gave one and the relay's
/// signature when `callbacks.secret` is set. One update per chat at a time, in update_id order, and per bot
/// at most the `max_connections` the app gave setWebhook (default 40); a failed POST
/// is retried by `inbound.push_*` (exponential backoff) and dead-lettered at the horizon.
///
/// At least once: the update is marked done only after a 2xx, so a crash between the POST and that record
/// sends it again. The app deduplicates by `update_id`, as it would for Telegram.
actor UpdatePusher: Service {
    let store: any MessageStore
    let poster: SignedPost
    let configuration: RelayConfiguration
    let ownership: BotOwnership
    let logger: Logger
    let maxConcurrent = 32
    private var random = SystemRandomNumberGenerator()
    /// Pushes in flight per bot, held to its push target's `max_connections`.
    private var inFlight: [String: Int] = [:]

    init(configuration: RelayConfiguration, store: any MessageStore, http: HTTPClient, ownership: BotOwnership, logger: Logger) {
        self.store = store
        self.ownership = ownership
        poster = SignedPost(http: http, secret: configuration.callbacks.secret, timeout: configuration.inbound.pushTimeout)
        self.configuration = configuration
        self.logger = logger
    }

    struct Key: Hashable, Sendable {
        var bot: String
        var updateID: Int64
    }

    func run() async throws {
        let (store, configuration, ownership) = (store, configuration, ownership)
        await DueWorkLoop(
            name: "update pusher", maxConcurrent: maxConcurrent, logger: logger,
            due: { limit in
                try await store.duePushes(now: Date(), limit: limit, excludingBots: ownership.servedElsewhere(configuration))
            },
            key: { Key(bot: $0.bot, updateID: $0.updateID) }, work: { update in await self.push(update) }
        ).run()
    }

    /// False when the update was left due as it was (no target now, at `max_connections`, store unavailable).
    private func push(_ update: StoredUpdate) async -> Bool {
        let target: PushTarget?
        do {
            target = try await store.inboxSettings(bot: update.bot).push
        } catch {
            logger.warning("cannot read the push target", metadata: ["bot": "\(update.bot)", "error": "\(error)"])
            return false
        }
        // Removed by deleteWebhook since the update was read: it waits for getUpdates instead.
        guard let target else { return false }
        // At setWebhook's max_connections the update stays due: the read after the next finished push takes it.
        guard inFlight[update.bot, default: 0] < target.maxConnections else { return false }
        inFlight[update.bot, default: 0] += 1
        defer { inFlight[update.bot, default: 0] -= 1 }
        let policy = configuration.bot(named: update.bot)?.inbound.pushPolicy ?? configuration.inbound.pushPolicy
        var headers = [("X-Tgrelay-Bot", update.bot)]
        if let token = target.secretToken { headers.append(("X-Telegram-Bot-Api-Secret-Token", token)) }
        let error = await poster.send(to: target.url, body: Array(update.json.utf8), event: "update.\(update.type)", headers: headers)
        let now = Date()
        let outcome = policy.outcome(error: error, tries: update.pushTries + 1, owedSince: update.pushOwedSince, now: now, random: &random)
        if case .gaveUp(let error) = outcome {
            logger.warning("push of an update given up", metadata: ["bot": "\(update.bot)", "update_id": "\(update.updateID)", "error": "\(error)"])
        }
        do {
            try await store.recordPushAttempt(bot: update.bot, updateID: update.updateID, at: now, outcome: outcome)
        } catch {
            // Left pending as it was: it is due again and pushed again (at least once).
            logger.warning("cannot record a push", metadata: ["bot": "\(update.bot)", "update_id": "\(update.updateID)", "error": "\(error)"])
        }
        return true
    }
}
