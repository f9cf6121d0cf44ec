import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import TGRelayCore
import TGRelayStore

/// `POST /telegram/{bot}/webhook`: Telegram's webhook for a bot switched to webhook mode by
/// `tgrelay webhook set`. The secret token is checked in constant time (401 otherwise, nothing stored) and
/// 200 answers only after the update is committed, so Telegram retries anything not stored; a retried
/// update is stored once.
struct WebhookRoutes {
    let store: any MessageStore
    let configuration: RelayConfiguration
    let ingest: InboxIngest

    static let secretHeader = HTTPField.Name("X-Telegram-Bot-Api-Secret-Token")!

    func register(on router: Router<RelayRequestContext>) {
        router.post("telegram/:bot/webhook") { request, context in
            let bot = context.parameters.get("bot") ?? ""
            let settings = try await storeCall { try await store.inboxSettings(bot: bot) }
            guard configuration.bot(named: bot) != nil, case .webhook(let secret) = settings.mode,
                let given = request.headers[Self.secretHeader], Self.equalInConstantTime(given, secret)
            else {
                throw APIError(.unauthorized, code: "unauthorized", message: "wrong or missing secret token", field: "X-Telegram-Bot-Api-Secret-Token")
            }
            let body = try await JSONBody.collect(request, limit: configuration.options.maxBodyBytes)
            let update: InboundUpdate
            do {
                update = try InboundUpdate(JSONParser.parse(body.readableBytesView))
            } catch {
                throw APIError.invalid("malformed_update", "the body is not a Telegram update: \(error)")
            }
            _ = try await storeCall { try await ingest.ingest(bot: bot, [update]) }
            return JSONBody.response(["ok": true])
        }
    }

    /// Compares SHA-256 digests, so neither the content nor the length of the secret shows in the timing.
    static func equalInConstantTime(_ a: String, _ b: String) -> Bool {
        APIKeyMiddleware.constantTimeEquals(SHA256.hash(data: Data(a.utf8)), SHA256.hash(data: Data(b.utf8)))
    }
}

/// `GET /v1/inbox/failed` and `POST /v1/inbox/{bot}/replay`: pushes to the app that were given up, and
/// sending them again.
struct InboxRoutes {
    let store: any MessageStore
    let configuration: RelayConfiguration

    func register(on router: RouterGroup<RelayRequestContext>) {
        router.get("inbox/failed") { request, _ in
            let bot = request.uri.queryParameters["bot"].map(String.init)
            let limit = try CallbackRoutes.limit(request.uri.queryParameters["limit"].map(String.init))
            let failed = try await storeCall { try await store.failedPushes(bot: bot, limit: limit) }
            return JSONBody.response(["failed": failed.map(Self.json)])
        }
        router.post("inbox/:bot/replay") { request, context in
            let bot = context.parameters.get("bot") ?? ""
            guard configuration.bot(named: bot) != nil else {
                throw APIError(.notFound, code: "unknown_bot", message: "no bot named \(bot) is configured", field: "bot")
            }
            let body = try await JSONBody.collect(request, limit: configuration.options.maxBodyBytes)
            var ids: [Int64]? = nil
            if body.readableBytes > 0, let given = try JSONBody.object(from: body)["update_ids"] {
                guard let list = given.arrayValue, list.allSatisfy({ $0.int64Value != nil }) else {
                    throw APIError.invalid("invalid_field", "update_ids must be an array of integers", field: "update_ids")
                }
                ids = list.compactMap(\.int64Value)
            }
            let replayed = try await storeCall { try await store.replayPushes(bot: bot, updateIDs: ids, now: Date()) }
            return JSONBody.response(["replayed": replayed.count, "update_ids": replayed])
        }
    }

    static func json(_ update: StoredUpdate) -> [String: Any] {
        var json: [String: Any] = [
            "bot": update.bot, "update_id": update.updateID, "type": update.type, "tries": update.pushTries,
            "received_at": UTCTimestamp.string(update.receivedAt), "owed_since": UTCTimestamp.string(update.pushOwedSince),
        ]
        if let chat = update.chat { json["chat_id"] = chat }
        if let error = update.lastPushError { json["last_error"] = error }
        return json
    }
}
