import Foundation

/// One injected fault. In JSON (scenario files, `POST /_fake/faults`) keys are snake_case:
///
///     {"kind": "outage", "start": 5, "duration": 10}
///     {"kind": "lost_answer", "count": 2, "method": "sendMessage"}
///     {"kind": "blocked", "bot": 123, "chat": "42"}
///     {"kind": "migrated", "chat": "-4711", "migrate_to_chat_id": -1004711}
///     {"kind": "latency", "latency_ms": 50, "jitter_ms": 20, "distribution": "normal"}
///
/// `start`/`duration` are seconds: from `start()` for scenario faults, from the moment of adding
/// for faults added at run time. Without `duration` a fault lasts until removed (or until `count`
/// matching requests used it up). `bot`, `chat` and `method` narrow which requests it affects.
public struct FakeFault: Sendable, Hashable {
    public enum Kind: String, Sendable, CaseIterable {
        /// 502 with an HTML body, like nginx in front of a dead Bot API.
        case outage
        /// 500 `Internal Server Error: restart`.
        case internalError = "internal_error"
        /// The listener is closed (connection refused) and re-opened on the same port afterwards.
        case refuseConnections = "refuse_connections"
        /// The request is never answered; the connection is closed when the fault ends.
        case hang
        /// A random 5xx (from `statuses`) with probability `rate`.
        case random5xx = "random_5xx"
        /// Added delay before answering: `latency_ms` + jitter.
        case latency
        /// The request takes effect but the connection is dropped before the answer.
        case lostAnswer = "lost_answer"
        /// 403 `Forbidden: bot was blocked by the user`.
        case blocked
        /// 403 `Forbidden: bot was kicked from the … chat`.
        case kicked
        /// 403 `Forbidden: user is deactivated`.
        case deactivated
        /// 403 `Forbidden: bot can't initiate conversation with a user`.
        case cantInitiate = "cant_initiate"
        /// 401 `Unauthorized` for every call of the bot.
        case revokedToken = "revoked_token"
        /// 400 `group chat was upgraded to a supergroup chat` with `migrate_to_chat_id`.
        case migrated
        /// 429 with the given `retry_after`, not caused by any limit: on sends, and on other methods when the
        /// fault names the method.
        case tooManyRequests = "too_many_requests"
        /// 400 `Bad Request: chat not found`.
        case chatNotFound = "chat_not_found"
    }

    public enum Distribution: String, Sendable, Hashable {
        case uniform, normal
    }

    public var kind: Kind
    public var start: Double = 0
    public var duration: Double? = nil
    public var bot: Int64? = nil
    public var chat: String? = nil
    public var method: String? = nil
    /// Probability that a matching request is affected (default 1).
    public var rate: Double = 1
    /// Only the next `count` matching requests are affected.
    public var count: Int? = nil
    public var retryAfter: Int = 5
    public var migrateToChatID: Int64? = nil
    public var statuses: [Int] = [500, 502, 503, 504]
    public var latencyMs: Double = 0
    /// Uniform: ± jitter_ms; normal: standard deviation jitter_ms (never below zero in total).
    public var jitterMs: Double = 0
    public var distribution: Distribution = .uniform

    public init(kind: Kind) {
        self.kind = kind
    }

    public init(json: FakeJSON) throws {
        guard case .object(let o) = json else { throw FakeConfigError("a fault must be a JSON object") }
        guard let name = o["kind"]?.stringValue, let kind = Kind(rawValue: name) else {
            let known = Kind.allCases.map(\.rawValue).joined(separator: ", ")
            throw FakeConfigError("fault kind must be one of: \(known)")
        }
        self.kind = kind
        if let v = o["start"]?.doubleValue { start = v }
        if let v = o["end"]?.doubleValue { duration = v - start }
        if let v = o["duration"]?.doubleValue { duration = v }
        bot = o["bot"]?.intValue
        chat = o["chat"]?.parameterText
        method = o["method"]?.stringValue
        if let v = o["rate"]?.doubleValue { rate = v }
        if let v = o["count"]?.intValue { count = Int(v) }
        if let v = o["retry_after"]?.intValue { retryAfter = Int(v) }
        migrateToChatID = o["migrate_to_chat_id"]?.intValue
        if let v = o["statuses"]?.arrayValue { statuses = v.compactMap { $0.intValue.map(Int.init) } }
        if let v = o["latency_ms"]?.doubleValue { latencyMs = v }
        if let v = o["jitter_ms"]?.doubleValue { jitterMs = v }
        if let v = o["distribution"]?.stringValue {
            guard let d = Distribution(rawValue: v) else { throw FakeConfigError("distribution must be uniform or normal") }
            distribution = d
        }
        try validate()
    }

    func validate() throws {
        if rate < 0 || rate > 1 { throw FakeConfigError("rate must be between 0 and 1") }
        if let duration, duration < 0 { throw FakeConfigError("duration must not be negative") }
        if let count, count < 0 { throw FakeConfigError("count must not be negative") }
        if retryAfter < 1 { throw FakeConfigError("retry_after must be at least 1") }
        if statuses.isEmpty || statuses.contains(where: { !(500...599).contains($0) }) {
            throw FakeConfigError("statuses must be 5xx codes")
        }
        if kind == .refuseConnections, duration == nil {
            throw FakeConfigError("refuse_connections needs a duration (the listener re-opens when it ends)")
        }
    }

    public var json: FakeJSON {
        var o: [String: FakeJSON] = ["kind": .string(kind.rawValue), "start": .double(start), "rate": .double(rate)]
        if let duration { o["duration"] = .double(duration) }
        if let bot { o["bot"] = .int(bot) }
        if let chat { o["chat"] = .string(chat) }
        if let method { o["method"] = .string(method) }
        if let count { o["count"] = .int(Int64(count)) }
        switch kind {
        case .tooManyRequests: o["retry_after"] = .int(Int64(retryAfter))
        case .migrated: if let m = migrateToChatID { o["migrate_to_chat_id"] = .int(m) }
        case .random5xx: o["statuses"] = .array(statuses.map { .int(Int64($0)) })
        case .latency:
            o["latency_ms"] = .double(latencyMs)
            o["jitter_ms"] = .double(jitterMs)
            o["distribution"] = .string(distribution.rawValue)
        default: break
        }
        return .object(o)
    }
}

public struct FakeConfigError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// The faults in force, with absolute simulator times and remaining counts.
struct FaultBook {
    struct Entry {
        var id: Int
        var fault: FakeFault
        var startAt: Double
        var endAt: Double?
        var remaining: Int?
        var fromScenario: Bool

        func isActive(at now: Double) -> Bool {
            now >= startAt && (endAt.map { now < $0 } ?? true) && (remaining.map { $0 > 0 } ?? true)
        }

        var json: FakeJSON {
            guard case .object(var o) = fault.json else { return fault.json }
            o["id"] = .int(Int64(id))
            if let remaining { o["remaining"] = .int(Int64(remaining)) }
            o["scenario"] = .bool(fromScenario)
            return .object(o)
        }
    }

    private(set) var entries: [Entry] = []
    private var nextID = 1

    mutating func add(_ fault: FakeFault, base: Double, fromScenario: Bool) -> Int {
        let id = nextID
        nextID += 1
        let startAt = base + fault.start
        entries.append(
            Entry(
                id: id, fault: fault, startAt: startAt, endAt: fault.duration.map { startAt + $0 },
                remaining: fault.count, fromScenario: fromScenario))
        return id
    }

    mutating func remove(id: Int) -> Bool {
        let before = entries.count
        entries.removeAll { $0.id == id }
        return entries.count != before
    }

    mutating func removeRuntime() {
        entries.removeAll { !$0.fromScenario }
    }

    /// Drops faults that can never fire again.
    mutating func expire(now: Double) {
        // A used-up hang stays: the requests it holds are released when it ends or is removed.
        entries.removeAll { e in (e.endAt.map { now >= $0 } ?? false) || (e.remaining == 0 && e.fault.kind != .hang) }
    }

    /// Whether a hang fault still holds its requests (its window is open and it was not removed).
    func holds(id: Int, now: Double) -> Bool {
        guard let e = entries.first(where: { $0.id == id }) else { return false }
        return e.endAt.map { now < $0 } ?? true
    }

    func refusing(now: Double) -> Bool {
        entries.contains { $0.fault.kind == .refuseConnections && $0.isActive(at: now) }
    }

    /// Faults of `kinds` that affect this request. The rate is drawn and counts are used up here,
    /// so calling it means "inject".
    /// With `namedMethodOnly`, only faults that name a method take part.
    mutating func take(
        _ kinds: Set<FakeFault.Kind>, bot: Int64?, chat: String?, method: String?, now: Double,
        rng: inout SeededRandom, namedMethodOnly: Bool = false
    ) -> [FakeFault] {
        var hits: [FakeFault] = []
        for index in entries.indices {
            let e = entries[index]
            guard kinds.contains(e.fault.kind), e.isActive(at: now), matches(e.fault, bot: bot, chat: chat, method: method),
                !namedMethodOnly || e.fault.method != nil
            else { continue }
            if e.fault.rate < 1, rng.unit() >= e.fault.rate { continue }
            if let r = e.remaining { entries[index].remaining = r - 1 }
            hits.append(e.fault)
        }
        return hits
    }

    /// The id of an active hang fault for this request (hangs are held while the fault lasts).
    mutating func takeHang(bot: Int64?, chat: String?, method: String?, now: Double, rng: inout SeededRandom) -> Int? {
        for index in entries.indices {
            let e = entries[index]
            guard e.fault.kind == .hang, e.isActive(at: now), matches(e.fault, bot: bot, chat: chat, method: method)
            else { continue }
            if e.fault.rate < 1, rng.unit() >= e.fault.rate { continue }
            if let r = e.remaining { entries[index].remaining = r - 1 }
            return e.id
        }
        return nil
    }

    private func matches(_ fault: FakeFault, bot: Int64?, chat: String?, method: String?) -> Bool {
        if let b = fault.bot, b != bot { return false }
        if let m = fault.method, m.lowercased() != method?.lowercased() { return false }
        if let c = fault.chat {
            guard let chat, let key = FakeChatRef(parameter: c)?.key, key == chat else { return false }
        }
        return true
    }
}
