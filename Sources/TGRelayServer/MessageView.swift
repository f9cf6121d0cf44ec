import Foundation
import TGRelayCore

/// The JSON shape of a message in REST answers.
enum MessageView {
    static func json(_ message: OutboundMessage) -> [String: Any] {
        var json: [String: Any] = [
            "id": message.id, "bot": message.bot, "chat_id": message.chat, "method": message.method,
            "status": message.status.rawValue, "attempts": message.attempts, "ambiguous": message.ambiguous,
            "at_most_once": message.atMostOnce, "created_at": UTCTimestamp.string(message.createdAt),
            "updated_at": UTCTimestamp.string(message.updatedAt),
        ]
        if let id = message.telegramMessageIDs.first { json["message_id"] = id }
        if message.telegramMessageIDs.count > 1 { json["message_ids"] = message.telegramMessageIDs }
        if let error = message.lastError { json["last_error"] = error }
        if let deadline = message.deadline { json["deliver_by"] = UTCTimestamp.string(deadline) }
        if let notBefore = message.notBefore, !message.status.isFinal { json["next_attempt_at"] = UTCTimestamp.string(notBefore) }
        if let key = message.idempotencyKey { json["idempotency_key"] = key }
        if let params = try? JSONSerialization.jsonObject(with: Data(message.params.utf8)) { json["params"] = params }
        if let result = message.result, let value = try? JSONSerialization.jsonObject(with: Data(result.utf8), options: .fragmentsAllowed) {
            json["result"] = value
        }
        return json
    }
}
