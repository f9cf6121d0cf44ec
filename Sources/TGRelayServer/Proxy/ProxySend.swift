import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import TGRelayCore
import TGRelayStore

/// A send method through the proxy: accepted durably into the outbox like a REST message, then the
/// request waits for the real delivery and returns Telegram's own answer. When delivery takes longer
/// than the wait, the answer is a 429 with an estimate; the message stays queued, and the library's
/// identical resend attaches to it (same payload within the dedup window) instead of sending twice.
struct ProxySend {
    let configuration: RelayConfiguration
    let store: any MessageStore
    let dispatcher: Dispatcher
    let bot: RelayConfiguration.Bot

    /// Returns nil when the call has no chat to make a lane of (an inline message edit): it passes through.
    func handle(method: String, call: BotAPICall, headers: HTTPFields) async -> Response? {
        let send: ValidatedSend
        do {
            send = try SendValidation.validate(method: method, params: call.params)
        } catch {
            let spec = BotAPIMethods.sendMethods[method]
            if error.code == .missingField, ["chat_id", "user_id"].contains(error.field), spec?.chatIDRequired == false { return nil }
            return BotAPIError(400, "Bad Request: \(error.message)").response
        }
        let wait: Duration
        switch ProxyHints.wait(headers) {
        case .invalid: return BotAPIError(400, "Bad Request: X-Tgrelay-Wait must be a number of seconds from 0 to 600").response
        case .seconds(let seconds): wait = .milliseconds(Int(seconds * 1000))
        case nil: wait = configuration.proxy.wait
        }
        let key = headers[.idempotencyKey]
        if let key, key.isEmpty || key.utf8.count > 256 {
            return BotAPIError(400, "Bad Request: Idempotency-Key must be 1-256 bytes").response
        }
        let canonicalParams = CanonicalJSON.serialize(.object(call.params))
        let message = NewMessage(
            bot: bot.name, chat: send.chat, method: send.method, params: canonicalParams,
            payloadHash: Self.payloadHash(bot: bot.name, method: send.method, canonicalParams: canonicalParams, uploads: call.uploads),
            idempotencyKey: key, uploads: call.uploads, dedupWindow: key == nil ? configuration.proxy.dedupWindow : nil)

        let stored: OutboundMessage
        do {
            switch try await storeCall({ try await store.accept([message], now: Date()) }).first {
            case .created(let created)?:
                stored = created
                dispatcher.noteAccepted(created)
                await dispatcher.lanesChanged([created.lane])
            case .existing(let existing)?:
                stored = existing
            case .conflict(let id)?:
                return BotAPIError(409, "Conflict: this Idempotency-Key was used for a different payload (message \(id))").response
            case nil:
                return BotAPIError(500, "Internal Server Error").response
            }
        } catch {
            return BotAPIError(503, "Service Unavailable: the relay cannot store messages right now, nothing was accepted").response
        }
        return await answer(for: stored, waiting: wait)
    }

    private func answer(for accepted: OutboundMessage, waiting wait: Duration) async -> Response {
        let id = accepted.id
        var message = accepted
        if !message.status.isFinal, wait > .zero {
            let store = store
            await dispatcher.waiters.wait(for: id, timeout: wait) {
                (try? await store.message(id: id))?.status.isFinal ?? false
            }
            message = (try? await store.message(id: id)) ?? message
        }
        var response: Response
        if message.status.isFinal {
            response = await finalAnswer(message)
        } else if wait == .zero {
            response = JSONBody.response(["ok": true, "result": ["relay_message_id": id, "status": message.status.rawValue]], status: .accepted)
        } else {
            let pending = (try? await store.counts())?.first { $0.bot == bot.name }?.pending ?? 1
            response = BotAPIError.tooManyRequests(retryAfter: QueueEstimate.retryAfter(pending: pending, perSecond: bot.perSecond)).response
        }
        response.headers[.relayMessageID] = String(id)
        response.headers[.relayStatus] = message.status.rawValue
        return response
    }

    /// Telegram's answer to the attempt that made the message final: a delivery's `result` as Telegram sent
    /// it (kept on the message), a failure's answer as the ledger has it; a Telegram-shaped error when no
    /// answer ended it (expired, cancelled, failed without a response). With `ledger.hash_chat_ids` the
    /// ledger's copy names chats by keyed ids, so a failure is answered from its code and description.
    private func finalAnswer(_ message: OutboundMessage) async -> Response {
        if message.status == .delivered, let result = message.result {
            return ProxyRoutes.response(ProxyAnswer(status: 200, body: Array(#"{"ok":true,"result":\#(result)}"#.utf8)), contentType: "application/json")
        }
        if message.status == .delivered || message.status == .failed,
            let last = try? await store.ledger(LedgerQuery(messageID: message.id, limit: 1000)).last(where: { $0.httpStatus != nil }),
            let status = last.httpStatus, let body = last.responseBody,
            status == 200 || message.status == .failed
        {
            if configuration.options.ledgerChatKey == nil {
                return ProxyRoutes.response(ProxyAnswer(status: status, body: Array(body.utf8)), contentType: "application/json")
            }
            if message.status == .failed {
                return BotAPIError(last.errorCode ?? status, last.description ?? "Bad Request", retryAfter: last.retryAfter).response
            }
        }
        let reason = message.lastError ?? message.status.rawValue
        switch message.status {
        case .failed where reason.hasPrefix("Forbidden"): return BotAPIError(403, reason).response
        case .failed: return BotAPIError(502, "Bad Gateway: \(reason)").response
        case .expired: return BotAPIError(400, "Bad Request: the relay gave up on this message: \(reason)").response
        default: return BotAPIError(400, "Bad Request: the message was cancelled in the relay").response
        }
    }

    /// Like the REST API's payload hash, with the uploaded files' contents: the same photo sent again is the
    /// same payload, another photo with the same caption is not.
    static func payloadHash(bot: String, method: String, canonicalParams: String, uploads: [FileUpload]) -> String {
        guard !uploads.isEmpty else { return AcceptRequest.payloadHash(bot: bot, method: method, canonicalParams: canonicalParams) }
        let files = uploads.map { "\($0.field)=\(Hex.encode(SHA256.hash(data: $0.data)))" }.joined(separator: "\n")
        return AcceptRequest.payloadHash(bot: bot, method: method, canonicalParams: canonicalParams + "\n" + files)
    }
}

/// Headers a caller can add to a proxy call.
enum ProxyHints {
    enum Wait: Equatable {
        case seconds(Double)
        case invalid
    }

    /// `X-Tgrelay-Wait: <seconds>`: how long a send waits for delivery (0 answers at once with the queued status).
    static func wait(_ headers: HTTPFields) -> Wait? {
        guard let text = headers[.relayWait] else { return nil }
        guard let seconds = Double(text.trimmingCharacters(in: .whitespaces)), seconds.isFinite, (0...600).contains(seconds) else {
            return .invalid
        }
        return .seconds(seconds)
    }
}

extension HTTPField.Name {
    static let relayWait = Self("X-Tgrelay-Wait")!
    /// On every proxy send answer: the relay's message id and its status, for logs and the REST API.
    static let relayMessageID = Self("X-Tgrelay-Message-Id")!
    static let relayStatus = Self("X-Tgrelay-Status")!
}
