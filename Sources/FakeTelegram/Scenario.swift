import Foundation

/// A scripted run, usually loaded from JSON:
///
///     {
///       "limits": {"scale": 0.1},
///       "unknown_chats": ["-999"],
///       "faults": [
///         {"kind": "outage", "start": 10, "duration": 5},
///         {"kind": "refuse_connections", "start": 20, "duration": 3},
///         {"kind": "lost_answer", "rate": 0.05},
///         {"kind": "blocked", "chat": "42"}
///       ],
///       "updates": [
///         {"at": 1, "bot": 123, "update": {"message": {"message_id": 1, "date": 0, "chat": {"id": 42, "type": "private"}, "text": "/start"}}}
///       ]
///     }
///
/// `limits` is `"telegram"`, `"off"`, `{"scale": F}` (Telegram's limits, durations × F) or explicit rules
/// `{"private_chat": {"count": 3, "window": 2.5}, "group_chat": …, "bot": …, "paid_broadcast": …,
/// "retry_after_unit": 1, "punishment": 1}` (seconds; a missing rule means no limit).
public struct FakeScenario: Sendable {
    public struct ScheduledUpdate: Sendable {
        /// Seconds after `start()`.
        public var at: Double
        public var bot: Int64
        public var update: FakeJSON

        public init(at: Double, bot: Int64, update: FakeJSON) {
            self.at = at
            self.bot = bot
            self.update = update
        }
    }

    public var faults: [FakeFault] = []
    public var updates: [ScheduledUpdate] = []
    public var unknownChats: [String] = []
    /// Overrides `FakeTelegramConfiguration.limits` when set.
    public var limits: FakeLimits? = nil

    public init(faults: [FakeFault] = [], updates: [ScheduledUpdate] = [], limits: FakeLimits? = nil) {
        self.faults = faults
        self.updates = updates
        self.limits = limits
    }

    public static func load(path: String) throws -> FakeScenario {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw FakeConfigError("cannot read scenario \(path): \(error.localizedDescription)")
        }
        let json: FakeJSON
        do {
            json = try FakeJSON.parse(data)
        } catch {
            throw FakeConfigError("scenario \(path) is not valid JSON")
        }
        return try FakeScenario(json: json)
    }

    public init(json: FakeJSON) throws {
        guard case .object(let o) = json else { throw FakeConfigError("a scenario must be a JSON object") }
        faults = try (o["faults"]?.arrayValue ?? []).map(FakeFault.init(json:))
        updates = try (o["updates"]?.arrayValue ?? []).map { item in
            guard let bot = item["bot"]?.intValue, let update = item["update"], update.objectValue != nil else {
                throw FakeConfigError("a scheduled update needs \"bot\" and an \"update\" object")
            }
            return ScheduledUpdate(at: item["at"]?.doubleValue ?? 0, bot: bot, update: update)
        }
        unknownChats = (o["unknown_chats"]?.arrayValue ?? []).map(\.parameterText)
        if let limits = o["limits"] { self.limits = try Self.limits(from: limits) }
    }

    static func limits(from json: FakeJSON) throws -> FakeLimits {
        switch json {
        case .string("telegram"): return .telegram
        case .string("off"): return .off
        case .object(let o):
            if let scale = o["scale"]?.doubleValue {
                guard scale > 0 else { throw FakeConfigError("limits.scale must be positive") }
                return FakeLimits.telegram.scaled(by: scale)
            }
            func rule(_ name: String) throws -> FakeLimitRule? {
                guard let r = o[name] else { return nil }
                guard let count = r["count"]?.intValue, let window = r["window"]?.doubleValue, count > 0, window > 0 else {
                    throw FakeConfigError("limits.\(name) needs a positive count and window (seconds)")
                }
                return FakeLimitRule(count: Int(count), window: .seconds(double: window))
            }
            return FakeLimits(
                privateChat: try rule("private_chat"), groupChat: try rule("group_chat"), bot: try rule("bot"),
                paidBroadcast: try rule("paid_broadcast"),
                retryAfterUnit: .seconds(double: o["retry_after_unit"]?.doubleValue ?? 1),
                punishment: .seconds(double: o["punishment"]?.doubleValue ?? 1))
        default:
            throw FakeConfigError("limits must be \"telegram\", \"off\" or an object")
        }
    }
}
