import Foundation

/// A message the simulator delivered, as `GET /_fake/messages` lists it.
public struct FakeRecordedMessage: Sendable, Hashable {
    /// Position in the global delivery order (1-based).
    public var sequence: Int
    public var bot: Int64
    /// The chat's numeric id (public channels named by @username get a derived id).
    public var chatID: Int64
    public var method: String
    public var messageID: Int64?
    /// The request parameters as received (strings for form encodings, JSON values for JSON bodies).
    public var params: FakeJSON
    public var receivedAt: Date
    /// Seconds since the simulator started, on its clock.
    public var simTime: Double
    /// Delivered, but the connection was dropped before the answer (the ambiguous case).
    public var lostAnswer: Bool
    /// The same method and parameters were delivered to this chat before.
    public var duplicate: Bool

    public var json: FakeJSON {
        var o: [String: FakeJSON] = [
            "sequence": .int(Int64(sequence)), "bot": .int(bot), "chat_id": .int(chatID), "method": .string(method),
            "params": params, "received_at": .string(Self.iso.format(receivedAt)),
            "received_at_unix": .double(receivedAt.timeIntervalSince1970), "sim_time": .double(simTime),
            "lost_answer": .bool(lostAnswer), "duplicate": .bool(duplicate),
        ]
        o["message_id"] = messageID.map { .int($0) } ?? .null
        return .object(o)
    }

    private static let iso = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
}

/// Counters for assertions, as `GET /_fake/stats` returns them.
public struct FakeStats: Sendable, Hashable {
    public var totalRequests = 0
    public var requestsByMethod: [String: Int] = [:]
    public var responsesByStatus: [Int: Int] = [:]
    public var messagesDelivered = 0
    /// 429s caused by exceeding a limit (including punishment of ignored retry_after).
    public var limitViolations = 0
    public var limitViolationsByKind: [String: Int] = [:]
    /// Of `limitViolations`, those sent while the lane was already penalized.
    public var punishedRequests = 0
    /// 429s injected by a `too_many_requests` fault.
    public var injectedTooManyRequests = 0
    /// Deliveries of a method+params already delivered to the same chat.
    public var duplicatePayloads = 0
    /// Duplicates per "bot/chat_id".
    public var duplicatesByChat: [String: Int] = [:]
    public var faultsInjected: [String: Int] = [:]
    public var lostAnswers = 0
    public var updatesInjected = 0
    public var updatesDelivered = 0
    public var webhookAttempts = 0
    public var webhookFailures = 0

    public var tooManyRequestsTotal: Int { limitViolations + injectedTooManyRequests }

    public var json: FakeJSON {
        func dict(_ d: [String: Int]) -> FakeJSON { .object(d.mapValues { .int(Int64($0)) }) }
        return [
            "total_requests": .int(Int64(totalRequests)),
            "requests_by_method": dict(requestsByMethod),
            "responses_by_status": .object(
                Dictionary(uniqueKeysWithValues: responsesByStatus.map { (String($0.key), .int(Int64($0.value))) })),
            "messages_delivered": .int(Int64(messagesDelivered)),
            "too_many_requests": [
                "total": .int(Int64(tooManyRequestsTotal)),
                "limit": .int(Int64(limitViolations)),
                "injected": .int(Int64(injectedTooManyRequests)),
            ],
            "limit_violations": .int(Int64(limitViolations)),
            "limit_violations_by_kind": dict(limitViolationsByKind),
            "punished_requests": .int(Int64(punishedRequests)),
            "duplicate_payloads": .int(Int64(duplicatePayloads)),
            "duplicates_by_chat": dict(duplicatesByChat),
            "faults_injected": dict(faultsInjected),
            "lost_answers": .int(Int64(lostAnswers)),
            "updates_injected": .int(Int64(updatesInjected)),
            "updates_delivered": .int(Int64(updatesDelivered)),
            "webhook_attempts": .int(Int64(webhookAttempts)),
            "webhook_failures": .int(Int64(webhookFailures)),
        ]
    }
}

/// Everything the simulator delivered, plus the stats.
struct Recorder {
    private(set) var messages: [FakeRecordedMessage] = []
    var stats = FakeStats()
    private var seenPayloads: Set<String> = []

    mutating func countFault(_ kind: FakeFault.Kind) {
        stats.faultsInjected[kind.rawValue, default: 0] += 1
    }

    mutating func countViolation(_ rejection: RateLimiter.Rejection) {
        stats.limitViolations += 1
        stats.limitViolationsByKind[rejection.kind.rawValue, default: 0] += 1
        if rejection.punished { stats.punishedRequests += 1 }
    }

    /// Records a delivery and returns its index (for `markLostAnswer`).
    mutating func record(
        bot: Int64, chatID: Int64, method: String, messageID: Int64?, params: BotRequestParams, simTime: Double,
        date: Date
    ) -> Int {
        let payloadKey = "\(bot)|\(chatID)|\(method.lowercased())|\(params.canonical)"
        let duplicate = !seenPayloads.insert(payloadKey).inserted
        if duplicate {
            stats.duplicatePayloads += 1
            stats.duplicatesByChat["\(bot)/\(chatID)", default: 0] += 1
        }
        stats.messagesDelivered += 1
        messages.append(
            FakeRecordedMessage(
                sequence: messages.count + 1, bot: bot, chatID: chatID, method: method, messageID: messageID,
                params: params.raw, receivedAt: date, simTime: simTime, lostAnswer: false, duplicate: duplicate))
        return messages.count - 1
    }

    mutating func markLostAnswer(_ indices: [Int]) {
        for index in indices where messages.indices.contains(index) {
            messages[index].lostAnswer = true
        }
        stats.lostAnswers += 1
    }

    mutating func reset() {
        self = Recorder()
    }
}
