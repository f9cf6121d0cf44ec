import Foundation
import TGRelayCore
import TGRelayStore
import TelegramBotAPI

extension AttemptRecord {
    /// The ledger row and message transition for one attempt.
    init(
        message: OutboundMessage, endpoint: String, response: BotAPIResponse, answer: TelegramAnswer,
        decision: DeliveryDecision.Decision, at: Date, duration: Duration
    ) {
        var httpStatus: Int?
        var body: String?
        var envelope = TelegramEnvelope()
        switch response {
        case .answer(let status, let bytes):
            httpStatus = status
            body = String(decoding: bytes, as: UTF8.self)
            // A delivery's envelope says only `ok: true`: no second parse of its result on the hot path.
            if case .delivered = answer { envelope.ok = true } else { envelope = TelegramEnvelope(bytes) }
        case .failure(.notSent(let reason)), .failure(.mayHaveBeenSent(let reason)):
            envelope.description = reason
        }
        let milliseconds = Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
        self.init(
            messageID: message.id, at: at, endpoint: endpoint, method: message.method, httpStatus: httpStatus,
            ok: envelope.ok, errorCode: envelope.errorCode, description: envelope.description,
            retryAfter: envelope.retryAfter, telegramMessageIDs: decision.messageIDs, durationMs: milliseconds,
            responseBody: body, outcome: answer.outcome, ambiguous: decision.ambiguous && answer.isAmbiguous,
            newStatus: decision.newStatus, countsAsAttempt: decision.countsAsAttempt, notBefore: decision.notBefore,
            lastError: decision.lastError, result: decision.result)
    }
}

/// The fields of Telegram's answer envelope that the ledger keeps as columns.
struct TelegramEnvelope {
    var ok = false
    var errorCode: Int?
    var description: String?
    var retryAfter: Int?

    init() {}

    init(_ bytes: [UInt8]) {
        guard let object = (try? JSONParser.parse(bytes))?.objectValue else { return }
        ok = object["ok"]?.boolValue ?? false
        errorCode = object["error_code"]?.int64Value.map { Int(clamping: $0) }
        description = object["description"]?.stringValue
        retryAfter = object["parameters"]?["retry_after"]?.int64Value.map { Int(clamping: $0) }
    }
}

extension TelegramAnswer {
    /// The outcome class recorded in the ledger.
    var outcome: String {
        switch self {
        case .delivered: "delivered"
        case .rateLimited: "rate_limited"
        case .migrated: "migrated"
        case .chatInactive: "chat_inactive"
        case .unauthorized: "unauthorized"
        case .rejected: "rejected"
        case .transient: "transient"
        case .ambiguous: "ambiguous"
        }
    }

    var isAmbiguous: Bool {
        if case .ambiguous = self { return true }
        return false
    }
}
