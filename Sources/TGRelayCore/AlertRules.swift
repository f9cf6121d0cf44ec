import Foundation

/// What an alert is about.
public enum AlertKind: String, Sendable, Hashable, CaseIterable {
    /// More messages waiting than `AlertThresholds.queueDepth`.
    case queueDepth = "queue_depth"
    /// More dead letters in the last hour than `AlertThresholds.deadLettersPerHour`.
    case deadLetters = "dead_letters_growing"
    /// An endpoint's circuit open for longer than `AlertThresholds.circuitOpenSeconds`.
    case circuitOpen = "circuit_open"
    /// Telegram refused the bot's token (401): nothing is sent until it is replaced.
    case tokenRevoked = "token_revoked"
    /// Another consumer is polling the bot's updates (409 on getUpdates).
    case pollingConflict = "polling_conflict"
}

/// One alert: a kind, for a bot (and for a circuit, its endpoint).
public struct AlertKey: Sendable, Hashable, Comparable {
    public var kind: AlertKind
    public var bot: String
    /// The endpoint's base URL for `circuitOpen`, else nil.
    public var endpoint: String?

    public init(kind: AlertKind, bot: String, endpoint: String? = nil) {
        self.kind = kind
        self.bot = bot
        self.endpoint = endpoint
    }

    public static func < (lhs: Self, rhs: Self) -> Bool {
        (lhs.bot, lhs.kind.rawValue, lhs.endpoint ?? "") < (rhs.bot, rhs.kind.rawValue, rhs.endpoint ?? "")
    }
}

/// An alert while it holds.
public struct Alert: Sendable, Equatable {
    public var key: AlertKey
    /// When it was raised.
    public var since: Date
    /// What was seen when it was raised, for people (a count, Telegram's description).
    public var detail: String

    public init(key: AlertKey, since: Date, detail: String) {
        self.key = key
        self.since = since
        self.detail = detail
    }
}

/// The thresholds of the rules; the defaults are the field's usual ones.
public struct AlertThresholds: Sendable, Equatable {
    /// Raised above this many waiting messages; resolved at or below 90 % of it, so a queue hovering
    /// around the threshold does not raise and resolve on every evaluation.
    public var queueDepth: Int
    /// Raised when more messages than this were dead-lettered in the last hour.
    public var deadLettersPerHour: Int
    /// Raised when a circuit has been open (or half-open) for longer than this.
    public var circuitOpenSeconds: TimeInterval

    public init(queueDepth: Int = 1000, deadLettersPerHour: Int = 10, circuitOpenSeconds: TimeInterval = 60) {
        self.queueDepth = queueDepth
        self.deadLettersPerHour = deadLettersPerHour
        self.circuitOpenSeconds = circuitOpenSeconds
    }

    var queueDepthResolved: Int { queueDepth * 9 / 10 }
}

/// What the relay sees of one bot at one moment: the rules' input.
public struct BotObservation: Sendable, Equatable {
    public var bot: String
    public var queueDepth: Int
    /// Dead letters now (a count that only grows, except when some are replayed).
    public var deadLetters: Int
    /// Endpoints whose circuit is not closed, with the start of their outage.
    public var openCircuits: [String: Date]
    /// Telegram's description while the token is refused.
    public var tokenRefused: String?
    /// Why polling conflicts, while it does.
    public var pollingConflict: String?

    public init(
        bot: String, queueDepth: Int = 0, deadLetters: Int = 0, openCircuits: [String: Date] = [:], tokenRefused: String? = nil,
        pollingConflict: String? = nil
    ) {
        self.bot = bot
        self.queueDepth = queueDepth
        self.deadLetters = deadLetters
        self.openCircuits = openCircuits
        self.tokenRefused = tokenRefused
        self.pollingConflict = pollingConflict
    }
}

/// A change the evaluator asks the relay to announce.
public enum AlertTransition: Sendable, Equatable {
    case raised(Alert)
    case resolved(Alert, at: Date)

    public var alert: Alert {
        switch self {
        case .raised(let alert), .resolved(let alert, _): alert
        }
    }
}

/// The alert rules as a state machine: fed observations on a controlled clock, it raises each alert once
/// when its rule starts to hold and resolves it once when it stops, however often it is evaluated between.
public struct AlertEvaluator: Sendable {
    public var thresholds: AlertThresholds
    public private(set) var active: [AlertKey: Alert] = [:]
    /// Per bot, dead-letter counts over the last hour (plus the newest one before it, the baseline).
    private var deadLetterSamples: [String: [(at: Date, count: Int)]] = [:]
    static let deadLetterWindow: TimeInterval = 3600

    public init(thresholds: AlertThresholds = AlertThresholds()) {
        self.thresholds = thresholds
    }

    /// The alerts holding now, in a stable order.
    public var activeAlerts: [Alert] { active.values.sorted { $0.key < $1.key } }

    /// Evaluates every rule for these bots. A bot not observed keeps its alerts (it may be observed later).
    public mutating func evaluate(_ observations: [BotObservation], now: Date) -> [AlertTransition] {
        var transitions: [AlertTransition] = []
        for observation in observations {
            for (key, detail) in holding(observation, now: now) {
                if let detail, active[key] == nil {
                    let alert = Alert(key: key, since: now, detail: detail)
                    active[key] = alert
                    transitions.append(.raised(alert))
                } else if detail == nil, let alert = active.removeValue(forKey: key) {
                    transitions.append(.resolved(alert, at: now))
                }
            }
        }
        return transitions
    }

    /// Every rule's verdict for one bot: a detail while it holds, nil when it does not. Alerts of circuits
    /// no longer reported open are included with nil, so they resolve.
    private mutating func holding(_ observation: BotObservation, now: Date) -> [(AlertKey, String?)] {
        let bot = observation.bot
        let queueKey = AlertKey(kind: .queueDepth, bot: bot)
        let queueLimit = active[queueKey] == nil ? thresholds.queueDepth : thresholds.queueDepthResolved
        var verdicts: [(AlertKey, String?)] = [
            (queueKey, observation.queueDepth > queueLimit ? "\(observation.queueDepth) messages waiting" : nil),
            (AlertKey(kind: .tokenRevoked, bot: bot), observation.tokenRefused),
            (AlertKey(kind: .pollingConflict, bot: bot), observation.pollingConflict),
        ]
        let growth = deadLetterGrowth(bot: bot, count: observation.deadLetters, now: now)
        verdicts.append(
            (AlertKey(kind: .deadLetters, bot: bot), growth > thresholds.deadLettersPerHour ? "\(growth) dead letters in the last hour" : nil))
        var circuits = Set(active.keys.filter { $0.kind == .circuitOpen && $0.bot == bot }.compactMap(\.endpoint))
        circuits.formUnion(observation.openCircuits.keys)
        for endpoint in circuits.sorted() {
            var detail: String?
            if let since = observation.openCircuits[endpoint], now.timeIntervalSince(since) > thresholds.circuitOpenSeconds {
                detail = "circuit open since \(since.formatted(.iso8601))"
            }
            verdicts.append((AlertKey(kind: .circuitOpen, bot: bot, endpoint: endpoint), detail))
        }
        return verdicts
    }

    /// Dead letters added over the last hour: the count now minus the newest sample at least an hour old
    /// (or the oldest one, while the history is shorter). Replays make it smaller, as they should.
    private mutating func deadLetterGrowth(bot: String, count: Int, now: Date) -> Int {
        var samples = deadLetterSamples[bot, default: []]
        samples.append((now, count))
        let windowStart = now.addingTimeInterval(-Self.deadLetterWindow)
        // Keep one sample at or before the window's start as the baseline.
        while samples.count > 1, samples[1].at <= windowStart {
            samples.removeFirst()
        }
        deadLetterSamples[bot] = samples
        return count - samples[0].count
    }
}
