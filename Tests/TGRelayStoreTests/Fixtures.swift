import Foundation
import TGRelayCore
import Testing
import TGRelayStore

/// A fixed clock start: whole seconds, so times survive every driver's precision.
let t0 = Date(timeIntervalSince1970: 1_700_000_000)

func at(_ seconds: Double) -> Date {
    t0.addingTimeInterval(seconds)
}

func newMessage(
    _ text: String = "hello", bot: String = "bot1", chat: String = "100", key: String? = nil,
    atMostOnce: Bool = false, deadline: Date? = nil, paramsPadding: Int = 0
) -> NewMessage {
    let padding = String(repeating: "x", count: paramsPadding)
    return NewMessage(
        bot: bot, chat: chat, method: "sendMessage",
        params: #"{"chat_id":"\#(chat)","text":"\#(text)\#(padding)"}"#, payloadHash: "hash-\(text)",
        idempotencyKey: key, deadline: deadline, atMostOnce: atMostOnce, callbackURL: nil)
}

/// Accepts messages that must all be new and returns them.
func acceptNew(_ store: any MessageStore, _ messages: [NewMessage], now: Date = t0) async throws -> [OutboundMessage] {
    try await store.accept(messages, now: now).map { result in
        guard case .created(let message) = result else {
            throw FixtureError.unexpected("expected .created, got \(result)")
        }
        return message
    }
}

func acceptOne(_ store: any MessageStore, _ message: NewMessage, now: Date = t0) async throws -> OutboundMessage {
    try await acceptNew(store, [message], now: now)[0]
}

enum FixtureError: Error {
    case unexpected(String)
}

func attempt(
    _ id: Int64, at time: Date = at(1), status: MessageStatus, counts: Bool = true, ok: Bool = false,
    httpStatus: Int? = 500, description: String? = nil, ids: [Int64] = [], ambiguous: Bool = false,
    notBefore: Date? = nil, lastError: String? = nil, result: String? = nil
) -> AttemptRecord {
    AttemptRecord(
        messageID: id, at: time, endpoint: "https://api.telegram.org", method: "sendMessage", httpStatus: httpStatus,
        ok: ok, errorCode: ok ? nil : httpStatus, description: description, retryAfter: nil, telegramMessageIDs: ids,
        durationMs: 12.5, responseBody: ok ? #"{"ok":true}"# : #"{"ok":false}"#, outcome: status.rawValue,
        ambiguous: ambiguous, newStatus: status, countsAsAttempt: counts, notBefore: notBefore, lastError: lastError,
        result: result)
}

func delivered(_ id: Int64, at time: Date = at(1), telegramID: Int64 = 7) -> AttemptRecord {
    attempt(
        id, at: time, status: .delivered, ok: true, httpStatus: 200, ids: [telegramID],
        result: #"{"message_id":\#(telegramID)}"#)
}

func failed(_ id: Int64, reason: String, at time: Date = at(1)) -> AttemptRecord {
    attempt(id, at: time, status: .failed, httpStatus: 400, description: reason, lastError: reason)
}

/// Drains a lane through the store the way a dispatcher does, returning the ids in delivery order.
func drain(_ store: any MessageStore, _ lane: LaneKey) async throws -> [Int64] {
    var order: [Int64] = []
    while let head = try await store.laneHead(lane) {
        try #require(try await store.markSending(id: head.id, now: at(1)))
        try await store.record(delivered(head.id))
        order.append(head.id)
    }
    return order
}
