import TGRelayCore
import Foundation
import Hummingbird
import TGRelayStore

/// `GET /v1/callbacks?status=pending|delivered|failed|skipped&message_id=…&limit=…`: the outbox (status
/// callbacks, fallbacks, alerts), newest first, so an operator sees which ones were given up.
struct CallbackRoutes {
    let store: any MessageStore

    func register(on router: RouterGroup<RelayRequestContext>) {
        router.get("callbacks") { request, _ in
            let query = request.uri.queryParameters.reduce(into: [String: String]()) { $0[String($1.key)] = String($1.value) }
            let callbacks: [OwedCallback]
            if let text = query["message_id"] {
                guard let id = Int64(text) else { throw APIError.invalid("invalid_field", "message_id must be an integer", field: "message_id") }
                callbacks = try await storeCall { try await store.callbacks(messageID: id) }
            } else {
                let state = try query["status"].map { text in
                    guard let state = CallbackState(rawValue: text) else {
                        throw APIError.invalid("invalid_field", "status must be pending, delivered, failed or skipped", field: "status")
                    }
                    return state
                }
                let limit = try Self.limit(query["limit"])
                callbacks = try await storeCall { try await store.callbacks(state: state, limit: limit) }
            }
            return JSONBody.response(["callbacks": callbacks.map(Self.json)])
        }
    }

    static func limit(_ text: String?) throws -> Int {
        guard let text else { return 100 }
        guard let limit = Int(text), (1...10_000).contains(limit) else {
            throw APIError.invalid("invalid_field", "limit must be 1-10000", field: "limit")
        }
        return limit
    }

    static func json(_ callback: OwedCallback) -> [String: Any] {
        var json: [String: Any] = [
            "id": callback.id, "message_id": callback.messageID, "url": callback.url,
            "event": callback.event.eventName, "status": callback.state.rawValue, "tries": callback.tries,
            "owed_since": UTCTimestamp.string(callback.at),
        ]
        if callback.state == .pending { json["next_attempt_at"] = UTCTimestamp.string(callback.nextAttemptAt) }
        if let error = callback.lastAttemptError { json["last_error"] = error }
        if let completed = callback.completedAt { json["completed_at"] = UTCTimestamp.string(completed) }
        return json
    }
}
