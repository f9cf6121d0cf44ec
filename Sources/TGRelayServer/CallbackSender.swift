import AsyncHTTPClient
import Foundation
import Logging
import ServiceLifecycle
import TGRelayCore
import TGRelayStore

/// Delivers what the store's outbox owes — status callbacks, fallbacks, alerts: POSTs each due one, signed,
/// and records the outcome (delivered on 2xx; otherwise retried by `CallbackPolicy` until its horizon, then
/// failed). A fallback is first claimed (`claimFallback`): it is sent only if its message is still undelivered.
///
/// The store is the queue (`DueWorkLoop`), so a crash at any point only means a callback is sent again (at
/// least once): receivers deduplicate by `callback_id`.
public actor CallbackSender: Service {
    let store: any MessageStore
    let http: HTTPClient
    let settings: RelayConfiguration.Callbacks
    let secret: [UInt8]
    let configuration: RelayConfiguration
    let ownership: BotOwnership
    let logger: Logger
    /// Slow receivers must not hold up the others, but one relay should not flood them either.
    let maxConcurrent = 16
    private var random = SystemRandomNumberGenerator()

    /// Nil when callbacks are not configured (no secret): nothing is ever owed then, since every
    /// `callback_url` is refused at accept and `callbacks.url` needs the secret.
    init?(configuration: RelayConfiguration, store: any MessageStore, http: HTTPClient, ownership: BotOwnership, logger: Logger) {
        guard let secret = configuration.callbacks.secret else { return nil }
        self.configuration = configuration
        self.ownership = ownership
        self.store = store
        self.http = http
        self.settings = configuration.callbacks
        self.secret = secret
        self.logger = logger
    }

    public func run() async throws {
        let (store, configuration, ownership) = (store, configuration, ownership)
        await DueWorkLoop(
            name: "callback sender", maxConcurrent: maxConcurrent, logger: logger,
            due: { limit in
                try await store.dueCallbacks(now: Date(), limit: limit, excludingBots: ownership.servedElsewhere(configuration))
            },
            key: { $0.id },
            work: { callback in await self.deliver(callback) }
        ).run()
    }

    /// False when nothing was sent (see `claimedIfFallback`).
    private func deliver(_ owed: OwedCallback) async -> Bool {
        guard let callback = await claimedIfFallback(owed) else { return false }
        let error = await post(callback)
        let now = Date()
        let outcome = settings.policy.outcome(error: error, tries: callback.tries + 1, owedSince: callback.at, now: now, random: &random)
        if case .gaveUp(let error) = outcome {
            logger.warning(
                "status callback given up", metadata: ["callback_id": "\(callback.id)", "message_id": "\(callback.messageID)", "error": "\(error)"])
        }
        do {
            try await store.recordCallbackAttempt(id: callback.id, at: now, outcome: outcome)
        } catch {
            // Left pending as it was: it is simply due again, and sent again (at least once).
            logger.warning("cannot record a callback attempt", metadata: ["callback_id": "\(callback.id)", "error": "\(error)"])
        }
        return true
    }

    /// A due fallback checks its message first, in the store's transaction, so it is sent at most once per
    /// message (then retried like any callback) and never for a message delivered in the meantime.
    /// Nil: nothing to send (not needed, claimed already, or the store is unavailable: due again later).
    private func claimedIfFallback(_ owed: OwedCallback) async -> OwedCallback? {
        guard owed.isUnclaimedFallback else { return owed }
        do {
            let now = Date()
            let claimed = try await store.claimFallback(id: owed.id, now: now) { message, cancelled in
                Self.fallbackBody(callbackID: owed.id, message: message, deliveryCancelled: cancelled, at: now)
            }
            if claimed != nil {
                logger.info("message still undelivered: sending its fallback", metadata: ["message_id": "\(owed.messageID)"])
            }
            return claimed
        } catch {
            logger.warning("cannot claim a fallback", metadata: ["callback_id": "\(owed.id)", "error": "\(error)"])
            return nil
        }
    }

    /// One signed POST; nil when the receiver answered 2xx, else why not.
    private func post(_ callback: OwedCallback) async -> String? {
        let body = callback.payload.map { Array($0.utf8) } ?? Self.body(callback)
        return await SignedPost(http: http, secret: secret, timeout: settings.timeout)
            .send(to: callback.url, body: body, event: callback.event.eventName)
    }

    /// The JSON body: the message as it was when it reached its final state, keys sorted so retries of
    /// one callback send the same bytes.
    static func body(_ callback: OwedCallback) -> [UInt8] {
        let json: [String: Any] = [
            "callback_id": callback.id, "id": callback.messageID, "bot": callback.bot, "chat_id": callback.chat,
            "status": callback.event.rawValue, "attempts": callback.messageAttempts,
            "message_id": callback.telegramMessageIDs.first.map { $0 as Any } ?? NSNull(),
            "last_error": callback.lastError.map { $0 as Any } ?? NSNull(), "ambiguous": callback.ambiguous,
            "at": UTCTimestamp.string(callback.at),
        ]
        let data = (try? JSONSerialization.data(withJSONObject: json, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        return Array(data)
    }

    /// A fallback's body: the message itself (method and Bot API params), so the receiver can reach the
    /// person another way, and where its Telegram delivery stands. Fixed at claim, so retries send the same bytes.
    static func fallbackBody(callbackID: Int64, message: OutboundMessage, deliveryCancelled: Bool, at: Date) -> String {
        let params = (try? JSONSerialization.jsonObject(with: Data(message.params.utf8))) ?? [String: Any]()
        let json: [String: Any] = [
            "callback_id": callbackID, "event": "fallback", "id": message.id, "bot": message.bot, "chat_id": message.chat,
            "method": message.method, "params": params, "status": message.status.rawValue, "attempts": message.attempts,
            "last_error": message.lastError.map { $0 as Any } ?? NSNull(), "delivery_cancelled": deliveryCancelled,
            "created_at": UTCTimestamp.string(message.createdAt), "at": UTCTimestamp.string(at),
        ]
        let data = (try? JSONSerialization.data(withJSONObject: json, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}
