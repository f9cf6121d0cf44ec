import Crypto
import Foundation
import Hummingbird
import TGRelayCore
import TGRelayStore

/// Turns a REST body into a `NewMessage`, or an `APIError` naming the offending field.
struct AcceptRequest {
    /// Top-level keys of the full form; anything else in a body without `params` is the shorthand's Bot API params.
    static let envelopeKeys: Set<String> = [
        "bot", "method", "params", "idempotency_key", "ttl_seconds", "deliver_by", "callback_url", "at_most_once",
        "fallback_url", "fallback_after_seconds", "cancel_on_fallback",
    ]

    let configuration: RelayConfiguration

    /// `fieldPrefix` locates the item inside a batch (`messages[3].`) so errors name the exact field.
    func parse(_ body: [String: JSONValue], idempotencyHeader: String?, now: Date, fieldPrefix: String = "") throws -> NewMessage {
        let botName = try string(body, "bot", prefix: fieldPrefix) ?? "default"
        try requireBot(botName, field: fieldPrefix + "bot")
        let method = try string(body, "method", prefix: fieldPrefix) ?? "sendMessage"
        let params: [String: JSONValue]
        if let raw = body["params"] {
            guard let object = raw.objectValue else {
                throw APIError.invalid("invalid_field", "params must be a JSON object", field: fieldPrefix + "params")
            }
            params = object
        } else {
            params = body.filter { !Self.envelopeKeys.contains($0.key) }
        }
        return try message(bot: botName, method: method, params: params, envelope: body, idempotencyHeader: idempotencyHeader, now: now, fieldPrefix: fieldPrefix)
    }

    func requireBot(_ name: String, field: String) throws {
        guard configuration.bot(named: name) != nil else {
            throw APIError(.notFound, code: "unknown_bot", message: "no bot named \(name) is configured", field: field)
        }
    }

    /// Builds and validates one message; `envelope` carries the delivery options.
    func message(
        bot: String, method: String, params: [String: JSONValue], envelope: [String: JSONValue], idempotencyHeader: String?,
        now: Date, fieldPrefix: String
    ) throws -> NewMessage {
        let send: ValidatedSend
        do {
            send = try SendValidation.validate(method: method, params: params)
        } catch {
            let field = error.field == "method" ? fieldPrefix + "method" : fieldPrefix + "params." + error.field
            throw APIError.invalid(error.code.rawValue, error.message, field: field)
        }
        let canonicalParams = CanonicalJSON.serialize(.object(params))
        let key = try string(envelope, "idempotency_key", prefix: fieldPrefix) ?? idempotencyHeader
        if let key, key.isEmpty || key.utf8.count > 256 {
            throw APIError.invalid("invalid_field", "idempotency_key must be 1-256 bytes", field: fieldPrefix + "idempotency_key")
        }
        let callback = try string(envelope, "callback_url", prefix: fieldPrefix)
        if let callback, !Self.isHTTPURL(callback) {
            throw APIError.invalid("invalid_field", "callback_url must be an http(s) URL", field: fieldPrefix + "callback_url")
        }
        // Callbacks are always signed; without a secret there is nothing to sign with, and accepting the URL
        // would promise a callback that never comes.
        if callback != nil, !configuration.callbacks.isEnabled {
            throw APIError.invalid(
                "callbacks_not_configured", "callback_url needs callbacks.secret (TGRELAY_CALLBACKS_SECRET) in the relay's configuration",
                field: fieldPrefix + "callback_url")
        }
        let atMostOnce = try bool(envelope, "at_most_once", prefix: fieldPrefix) ?? false
        return NewMessage(
            bot: bot, chat: send.chat, method: send.method, params: canonicalParams,
            payloadHash: Self.payloadHash(bot: bot, method: send.method, canonicalParams: canonicalParams),
            idempotencyKey: key, deadline: try deadline(envelope, now: now, prefix: fieldPrefix),
            atMostOnce: atMostOnce, callbackURL: callback,
            fallback: try fallback(envelope, bot: bot, now: now, prefix: fieldPrefix))
    }

    /// The message's fallback: its own `fallback_url`, `fallback_after_seconds`, `cancel_on_fallback`, each
    /// defaulting to the bot's (`bot.<name>.fallback_*`).
    private func fallback(_ envelope: [String: JSONValue], bot: String, now: Date, prefix: String) throws -> MessageFallback? {
        let defaults = configuration.bot(named: bot)?.fallback
        let ownURL = try string(envelope, "fallback_url", prefix: prefix)
        if let ownURL, !Self.isHTTPURL(ownURL) {
            throw APIError.invalid("invalid_field", "fallback_url must be an http(s) URL", field: prefix + "fallback_url")
        }
        var after: Double?
        if let value = envelope["fallback_after_seconds"], value != .null {
            guard case .number(let number) = value, let seconds = number.doubleValue, seconds > 0, seconds <= Self.maximumTTL else {
                throw APIError.invalid(
                    "invalid_field", "fallback_after_seconds must be a positive number of at most \(Int(Self.maximumTTL))",
                    field: prefix + "fallback_after_seconds")
            }
            after = seconds
        }
        let cancel = try bool(envelope, "cancel_on_fallback", prefix: prefix)
        guard let url = ownURL ?? defaults?.url else {
            if after != nil || cancel != nil {
                throw APIError.invalid(
                    "invalid_field", "fallback_after_seconds and cancel_on_fallback need a fallback_url (the message's or the bot's)",
                    field: prefix + "fallback_url")
            }
            return nil
        }
        guard let seconds = after ?? defaults?.afterSeconds else {
            throw APIError.invalid("invalid_field", "fallback_url needs fallback_after_seconds", field: prefix + "fallback_after_seconds")
        }
        // Signed like a callback, and a promise the relay could not keep without the secret.
        guard configuration.callbacks.isEnabled else {
            throw APIError.invalid(
                "callbacks_not_configured", "fallback_url needs callbacks.secret (TGRELAY_CALLBACKS_SECRET) in the relay's configuration",
                field: prefix + "fallback_url")
        }
        return MessageFallback(
            url: url, due: now.addingTimeInterval(seconds), cancelDelivery: cancel ?? defaults?.cancelOnFallback ?? false)
    }

    func bool(_ body: [String: JSONValue], _ key: String, prefix: String) throws -> Bool? {
        switch body[key] {
        case nil, .null?: return nil
        case .bool(let value)?: return value
        default: throw APIError.invalid("invalid_field", "\(key) must be a boolean", field: prefix + key)
        }
    }

    /// http(s) with a host: "http://" alone parses as a URL but can never be called back.
    static func isHTTPURL(_ text: String) -> Bool {
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased() else { return false }
        return ["http", "https"].contains(scheme) && url.host?.isEmpty == false
    }

    /// The longest `ttl_seconds` and the latest `deliver_by`: ten years is "no deadline" in practice, and
    /// beyond it a time would overflow the store's millisecond integers (and trap).
    static let maximumTTL: TimeInterval = 10 * 366 * 86_400

    static func payloadHash(bot: String, method: String, canonicalParams: String) -> String {
        let digest = SHA256.hash(data: Data("\(bot)\n\(method)\n\(canonicalParams)".utf8))
        return Hex.encode(digest)
    }

    private func deadline(_ body: [String: JSONValue], now: Date, prefix: String) throws -> Date? {
        switch (body["ttl_seconds"], body["deliver_by"]) {
        case (nil, nil): return nil
        case (.some, .some):
            throw APIError.invalid("invalid_field", "give ttl_seconds or deliver_by, not both", field: prefix + "deliver_by")
        case (let ttl?, nil):
            guard case .number(let number) = ttl, let seconds = number.doubleValue, seconds > 0, seconds <= Self.maximumTTL else {
                throw APIError.invalid(
                    "invalid_field", "ttl_seconds must be a positive number of at most \(Int(Self.maximumTTL))",
                    field: prefix + "ttl_seconds")
            }
            return now.addingTimeInterval(seconds)
        case (nil, let by?):
            let date: Date? =
                switch by {
                case .string(let text): Self.iso8601(text)
                case .number(let number): number.doubleValue.map { Date(timeIntervalSince1970: $0) }
                default: nil
                }
            // A deadline in the past is accepted (the message expires at once, as its sender asked), but one
            // before 1970 or beyond the ten-year horizon is a mistake, and would not fit the store.
            guard let date, date.timeIntervalSince1970 >= 0, date.timeIntervalSince(now) <= Self.maximumTTL else {
                throw APIError.invalid(
                    "invalid_field", "deliver_by must be an ISO-8601 time or Unix seconds, at most ten years ahead",
                    field: prefix + "deliver_by")
            }
            return date
        }
    }

    /// An ISO-8601 time with or without fractional seconds.
    static func iso8601(_ text: String) -> Date? {
        (try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text)) ?? (try? Date.ISO8601FormatStyle().parse(text))
    }

    func string(_ body: [String: JSONValue], _ key: String, prefix: String) throws -> String? {
        switch body[key] {
        case nil, .null?: return nil
        case .string(let value)?: return value
        default: throw APIError.invalid("invalid_field", "\(key) must be a string", field: prefix + key)
        }
    }
}
