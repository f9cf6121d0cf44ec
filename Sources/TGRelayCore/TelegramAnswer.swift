import Foundation

/// What one Bot API call came to, as far as delivery is concerned (DESIGN.md "Classification").
public enum TelegramAnswer: Sendable, Equatable {
    /// `ok: true`. `result` is the exact JSON text of Telegram's `result`; `messageIDs` holds the
    /// `message_id` of a Message/MessageId result, each one of an array result, none for `true`.
    case delivered(result: String, messageIDs: [Int64])
    /// 429: wait exactly this many seconds.
    case rateLimited(retryAfter: Int)
    /// The group became a supergroup; the canonical id of the new chat.
    case migrated(toChat: String)
    /// 403: the user blocked the bot, the bot was kicked, the user is deactivated…
    case chatInactive(String)
    /// 401: the token is revoked or wrong.
    case unauthorized(String)
    /// Any other 4xx: Telegram will not accept this request as it is.
    case rejected(errorCode: Int, description: String)
    /// Telegram did not process the request (5xx, proxy error page, no connection…): safe to retry.
    case transient(String)
    /// The request may have reached Telegram but no answer came back: a retry may duplicate it.
    case ambiguous(String)

    /// Whether this answer counts against the endpoint's health (circuit breaker). A 4xx or 429
    /// means the endpoint works.
    public var isEndpointFailure: Bool {
        switch self {
        case .transient, .ambiguous: true
        case .delivered, .rateLimited, .migrated, .chatInactive, .unauthorized, .rejected: false
        }
    }
}

/// A call that ended without an HTTP answer, by whether the request could have been processed.
public enum TransportFailure: Sendable, Equatable {
    case connectionRefused
    /// Reset before the request was completely written.
    case connectionReset
    case dnsFailure
    case tlsHandshakeFailed
    /// No connection could be used (pool exhausted, connect timeout) before the request went out.
    case timeoutBeforeRequestSent
    /// The whole request was written; no answer came in time.
    case timeoutAfterRequestSent
    /// The answer started (or the request was complete) and the connection dropped.
    case connectionDroppedMidResponse
    /// Anything else the HTTP client reports; the caller states whether the request was written.
    case other(description: String, requestSent: Bool)

    /// True when Telegram may have received the whole request.
    public var requestMayHaveArrived: Bool {
        switch self {
        case .connectionRefused, .connectionReset, .dnsFailure, .tlsHandshakeFailed, .timeoutBeforeRequestSent:
            false
        case .timeoutAfterRequestSent, .connectionDroppedMidResponse:
            true
        case .other(_, let requestSent):
            requestSent
        }
    }

    public var description: String {
        switch self {
        case .connectionRefused: "connection refused"
        case .connectionReset: "connection reset"
        case .dnsFailure: "DNS failure"
        case .tlsHandshakeFailed: "TLS handshake failed"
        case .timeoutBeforeRequestSent: "timeout before the request was sent"
        case .timeoutAfterRequestSent: "timeout after the request was sent"
        case .connectionDroppedMidResponse: "connection dropped before the answer was complete"
        case .other(let description, _): description
        }
    }
}
