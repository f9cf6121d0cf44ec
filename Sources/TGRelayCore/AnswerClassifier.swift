import Foundation

/// Maps a Bot API answer or a transport failure to a `TelegramAnswer` (TELEGRAM.md "Requests",
/// "Errors seen in practice").
public struct AnswerClassifier: Sendable {
    /// Used when a 429 comes without `parameters.retry_after` (a proxy's own limit, or the local
    /// server's): long enough not to hammer, short enough not to stall a lane.
    public var defaultRetryAfter: Int

    public init(defaultRetryAfter: Int = 5) {
        self.defaultRetryAfter = defaultRetryAfter
    }

    public func classify(failure: TransportFailure) -> TelegramAnswer {
        failure.requestMayHaveArrived ? .ambiguous(failure.description) : .transient(failure.description)
    }

    /// `status` is the HTTP status; `body` the raw answer, which may be an HTML error page.
    public func classify(status: Int, body: some Sequence<UInt8>) -> TelegramAnswer {
        guard let envelope = try? JSONParser.parseObjectWithRawMembers(body),
              let ok = envelope["ok"]?.value.boolValue
        else {
            return .transient("HTTP \(status): answer is not a Bot API JSON envelope")
        }
        if ok {
            let result = envelope["result"]
            return .delivered(result: result?.raw ?? "null", messageIDs: Self.messageIDs(in: result?.value))
        }
        let code = envelope["error_code"]?.value.int64Value.map(Int.init) ?? status
        let description = envelope["description"]?.value.stringValue ?? "HTTP \(code)"
        let parameters = envelope["parameters"]?.value
        return classifyError(code: code, description: description, parameters: parameters)
    }

    public func classify(status: Int, body: String) -> TelegramAnswer {
        classify(status: status, body: Array(body.utf8))
    }

    private func classifyError(code: Int, description: String, parameters: JSONValue?) -> TelegramAnswer {
        if let newChat = parameters?["migrate_to_chat_id"]?.int64Value {
            return .migrated(toChat: String(newChat))
        }
        switch code {
        case 429:
            let retryAfter = parameters?["retry_after"]?.int64Value.map { Int(clamping: $0) }
            return .rateLimited(retryAfter: max(retryAfter ?? defaultRetryAfter, 0))
        case 401:
            return .unauthorized(description)
        case 403:
            return .chatInactive(description)
        case 400..<500:
            return .rejected(errorCode: code, description: description)
        default:
            // 5xx, and codes Telegram does not use for errors: nothing says the request was refused.
            return .transient(description)
        }
    }

    /// `message_id` of a Message/MessageId object, or of each element of an array of them.
    private static func messageIDs(in result: JSONValue?) -> [Int64] {
        switch result {
        case .object(let members):
            members["message_id"]?.int64Value.map { [$0] } ?? []
        case .array(let elements):
            elements.compactMap { $0["message_id"]?.int64Value }
        default:
            []
        }
    }
}
