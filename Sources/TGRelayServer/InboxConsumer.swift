import Foundation
import TGRelayCore
import TGRelayStore

/// A Bot API answer as Telegram shapes it: `{"ok":true,"result":…}` or `{"ok":false,"error_code":…,"description":…}`.
struct BotAPIAnswer: Sendable, Equatable {
    var status: Int
    var body: String

    static func result(_ json: String) -> BotAPIAnswer {
        BotAPIAnswer(status: 200, body: #"{"ok":true,"result":\#(json)}"#)
    }

    static func result(_ value: JSONValue, description: String? = nil) -> BotAPIAnswer {
        var answer: [String: JSONValue] = ["ok": .bool(true), "result": value]
        if let description { answer["description"] = .string(description) }
        return BotAPIAnswer(status: 200, body: CanonicalJSON.serialize(.object(answer)))
    }

    static func error(_ status: Int, _ description: String) -> BotAPIAnswer {
        let body: JSONValue = .object([
            "ok": .bool(false), "error_code": .number(JSONNumber(Int64(status))), "description": .string(description),
        ])
        return BotAPIAnswer(status: status, body: CanonicalJSON.serialize(body))
    }

    static let webhookActive = error(
        409, "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first")
    static let otherPoll = error(409, "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running")
    static let storeUnavailable = error(500, "Internal Server Error: the relay's store is unavailable, retry later")
}

/// The app's side of the inbox, with Telegram's semantics: `getUpdates` served from the store (an offset
/// confirms every update below it, `limit`, long polling up to 50 s, `allowed_updates` kept in the store until
/// given again (and asked of Telegram by the poller), 409 for the
/// older of two concurrent polls), and `setWebhook`/`deleteWebhook`/`getWebhookInfo`, which configure the
/// relay's push to the app instead of Telegram's webhook (the relay keeps its own connection to Telegram).
///
/// The proxy's `ProxyInboundMethods` hook: `/bot<token>/<method>` calls these four methods here.
actor InboxConsumer: ProxyInboundMethods {
    let store: any MessageStore
    let signal: UpdateSignal
    /// How long a waiting poll trusts the signal before it reads the store again: updates stored by this
    /// node signal at once, but with several nodes another node's poller or webhook may store them.
    let storePoll: Duration
    /// The poll that owns each bot; an older one still waiting is answered 409.
    private var activePoll: [String: Int] = [:]
    private var nextPoll = 0

    init(store: any MessageStore, signal: UpdateSignal) {
        self.store = store
        self.signal = signal
        storePoll = store is any LaneChangeFeed ? .milliseconds(500) : .seconds(5)
    }

    nonisolated func answer(method: String, bot: RelayConfiguration.Bot, params: [String: JSONValue]) async -> ProxyAnswer? {
        await handle(bot: bot.name, method: method, params: params).map { ProxyAnswer(status: $0.status, body: Array($0.body.utf8)) }
    }

    /// Answers getUpdates, setWebhook, deleteWebhook or getWebhookInfo for a configured bot; nil for any other.
    func handle(bot: String, method: String, params: [String: JSONValue]) async -> BotAPIAnswer? {
        let p = BotParams(params)
        do {
            switch method {
            case "getUpdates":
                return try await getUpdates(
                    bot: bot, offset: p.int("offset") ?? 0, limit: Int(p.int("limit") ?? 100), timeout: p.double("timeout") ?? 0,
                    allowedUpdates: p.strings("allowed_updates"))
            case "setWebhook":
                return try await setWebhook(
                    bot: bot, url: p.string("url") ?? "", secretToken: p.string("secret_token"),
                    allowedUpdates: p.strings("allowed_updates"), dropPending: p.bool("drop_pending_updates"),
                    maxConnections: Int(p.int("max_connections") ?? 40))
            case "deleteWebhook":
                return try await deleteWebhook(bot: bot, dropPending: p.bool("drop_pending_updates"))
            case "getWebhookInfo":
                return try await webhookInfo(bot: bot)
            default:
                return nil
            }
        } catch let answer as BotAPIAnswer.Failure {
            return answer.answer
        } catch {
            return .storeUnavailable
        }
    }

    func getUpdates(bot: String, offset: Int64, limit: Int, timeout: Double, allowedUpdates given: [String]?) async throws -> BotAPIAnswer {
        let limit = max(1, min(100, limit))
        let deadline = ContinuousClock.now + .milliseconds(Int(max(0, min(50, timeout)) * 1000))
        let settings = try await store.inboxSettings(bot: bot)
        guard settings.push == nil else { return .webhookActive }
        // Telegram keeps `allowed_updates` until a call gives it again; the store keeps it across restarts,
        // and the poller asks Telegram for these types.
        var types = settings.consumerAllowedUpdates
        if let given, (given.isEmpty ? nil : given) != types {
            types = given.isEmpty ? nil : given
            try await store.setConsumerAllowedUpdates(bot: bot, types)
        }
        nextPoll += 1
        let poll = nextPoll
        activePoll[bot] = poll
        // Wakes a poll that is waiting, which then sees it no longer owns the bot.
        signal.notify(bot: bot)
        let from = try await confirm(bot: bot, offset: offset)
        while true {
            let seen = signal.generation(bot: bot)
            guard activePoll[bot] == poll else { return .otherPoll }
            let updates = try await store.pendingUpdates(bot: bot, from: from, types: types, limit: limit)
            guard activePoll[bot] == poll else { return .otherPoll }
            let now = ContinuousClock.now
            if !updates.isEmpty || now >= deadline || Task.isCancelled {
                activePoll[bot] = nil
                return .result("[" + updates.map(\.json).joined(separator: ",") + "]")
            }
            await signal.wait(bot: bot, seen: seen, timeout: min(deadline - now, storePoll))
        }
    }

    /// Applies the offset and returns the first update_id to answer with. A negative offset keeps only the
    /// last -offset pending updates, confirming the ones before them, as Telegram does.
    private func confirm(bot: String, offset: Int64) async throws -> Int64 {
        if offset > 0 {
            try await store.confirmUpdates(bot: bot, below: offset, now: Date())
            return offset
        }
        guard offset < 0 else { return 0 }
        let pending = try await store.pendingUpdates(bot: bot, from: 0, types: nil, limit: Int.max)
        guard let first = pending.suffix(Int(min(-offset, Int64(pending.count)))).first else { return 0 }
        try await store.confirmUpdates(bot: bot, below: first.updateID, now: Date())
        return first.updateID
    }

    /// `maxConnections` is clamped to 1–100, as Telegram does.
    func setWebhook(
        bot: String, url: String, secretToken: String?, allowedUpdates: [String]?, dropPending: Bool, maxConnections: Int = 40
    ) async throws -> BotAPIAnswer {
        let url = url.trimmingCharacters(in: .whitespaces)
        if url.isEmpty { return try await deleteWebhook(bot: bot, dropPending: dropPending) }
        guard AcceptRequest.isHTTPURL(url) else { throw BotAPIAnswer.Failure(400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook") }
        let secret = secretToken.flatMap { $0.isEmpty ? nil : $0 }
        if let secret {
            guard secret.utf8.count <= 256 else { throw BotAPIAnswer.Failure(400, "Bad Request: secret token is too long") }
            guard secret.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") }) else {
                throw BotAPIAnswer.Failure(400, "Bad Request: secret token contains unallowed characters")
            }
        }
        let target = PushTarget(
            url: url, secretToken: secret, allowedUpdates: allowedUpdates.flatMap { $0.isEmpty ? nil : $0 },
            maxConnections: min(100, max(1, maxConnections)))
        if try await store.inboxSettings(bot: bot).push == target, !dropPending {
            return .result(.bool(true), description: "Webhook is already set")
        }
        try await store.setPushTarget(bot: bot, target, dropPending: dropPending, now: Date())
        // A poll waiting right now ends with 409, as Telegram ends it when a webhook is set.
        activePoll[bot] = nil
        signal.notify(bot: bot)
        return .result(.bool(true), description: "Webhook was set")
    }

    func deleteWebhook(bot: String, dropPending: Bool) async throws -> BotAPIAnswer {
        let existed = try await store.inboxSettings(bot: bot).push != nil
        if existed || dropPending { try await store.setPushTarget(bot: bot, nil, dropPending: dropPending, now: Date()) }
        return .result(.bool(true), description: existed ? "Webhook was deleted" : "Webhook is already deleted")
    }

    func webhookInfo(bot: String) async throws -> BotAPIAnswer {
        let push = try await store.inboxSettings(bot: bot).push
        let pending = try await store.inboxCounts().first { $0.bot == bot }?.unconfirmed ?? 0
        var info: [String: JSONValue] = [
            "url": .string(push?.url ?? ""), "has_custom_certificate": .bool(false),
            "pending_update_count": .number(JSONNumber(Int64(pending))),
        ]
        if let push {
            info["max_connections"] = .number(JSONNumber(Int64(push.maxConnections)))
            if let allowed = push.allowedUpdates { info["allowed_updates"] = .array(allowed.map { .string($0) }) }
        }
        return .result(.object(info))
    }
}

extension BotAPIAnswer {
    /// A Telegram error answer thrown from deep in a method.
    struct Failure: Error {
        let answer: BotAPIAnswer

        init(_ status: Int, _ description: String) {
            answer = .error(status, description)
        }
    }
}

/// Bot API parameters as libraries send them: JSON values, or strings from a query or form (`"5"`,
/// `"true"`, `"[\"message\"]"`).
struct BotParams {
    let values: [String: JSONValue]

    init(_ values: [String: JSONValue]) {
        self.values = values
    }

    func string(_ key: String) -> String? {
        switch values[key] {
        case .string(let text): text
        case .number(let number): number.text
        default: nil
        }
    }

    func int(_ key: String) -> Int64? {
        values[key]?.int64Value ?? string(key).flatMap { Int64($0) }
    }

    func double(_ key: String) -> Double? {
        if case .number(let number) = values[key] { return number.doubleValue }
        return string(key).flatMap { Double($0) }
    }

    func bool(_ key: String) -> Bool {
        values[key]?.boolValue ?? (string(key) == "true")
    }

    /// An array of strings, or a string holding one as JSON.
    func strings(_ key: String) -> [String]? {
        let value = values[key].flatMap { value -> JSONValue? in
            if case .string(let text) = value { return try? JSONParser.parse(text) }
            return value
        }
        return value?.arrayValue?.compactMap(\.stringValue)
    }
}
