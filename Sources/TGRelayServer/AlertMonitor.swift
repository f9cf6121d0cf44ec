import Foundation
import Logging
import ServiceLifecycle
import TGRelayCore
import TGRelayStore

/// Evaluates the alert rules (`AlertEvaluator`) every `alerts.interval` against the store's counts and the
/// dispatcher's view of each bot; logs each raised alert (warning) and resolved one (info), and owes one
/// webhook POST per change through the store's outbox (signed, durable, retried by `CallbackSender`).
///
/// Other parts of the relay report conditions only they see: the updates poller calls
/// `setPollingConflict(bot:detail:)`. `activeAlerts` is what `/v1/status` (and metrics) show.
public actor AlertMonitor: Service {
    let store: any MessageStore
    let dispatcher: Dispatcher
    let settings: RelayConfiguration.Alerts
    let botNames: [String]
    let logger: Logger
    private var evaluator: AlertEvaluator
    private var announcer = AlertAnnouncer()
    private var pollingConflicts: [String: String] = [:]
    /// Webhook POSTs not yet owed because the store was unavailable; owed at the next evaluation.
    private var unsent: [(event: CallbackEvent, bot: String, payload: String, at: Date)] = []

    public init(configuration: RelayConfiguration, store: any MessageStore, dispatcher: Dispatcher, logger: Logger) {
        self.store = store
        self.dispatcher = dispatcher
        self.settings = configuration.alerts
        self.botNames = configuration.bots.map(\.name)
        self.logger = logger
        self.evaluator = AlertEvaluator(thresholds: configuration.alerts.thresholds)
    }

    /// Raises (a `detail`, e.g. Telegram's description of the 409) or resolves (nil) the polling-conflict
    /// alert of `bot`; it is announced at the next evaluation, at most `alerts.interval` later.
    public func setPollingConflict(bot: String, detail: String?) {
        pollingConflicts[bot] = detail
    }

    /// The alerts holding now, ordered by bot, kind and endpoint.
    public var activeAlerts: [Alert] { evaluator.activeAlerts }

    public func run() async throws {
        // Graceful shutdown cancels the loop, sleeping or not.
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await self.evaluate(now: Date())
                try await Task.sleep(for: self.settings.interval)
            }
        }
    }

    func evaluate(now: Date) async {
        let counts: [BotCounts]
        do {
            counts = try await store.counts()
        } catch {
            logger.warning("alert rules not evaluated: cannot read the store's counts", metadata: ["error": "\(error)"])
            return
        }
        let live = await dispatcher.alertInputs()
        let byBot = Dictionary(counts.map { ($0.bot, $0) }) { first, _ in first }
        let observations = botNames.map { name in
            BotObservation(
                bot: name, queueDepth: byBot[name]?.pending ?? 0, deadLetters: byBot[name]?.failed ?? 0,
                openCircuits: live[name]?.openCircuits ?? [:], tokenRefused: live[name]?.tokenRefused,
                pollingConflict: pollingConflicts[name])
        }
        // Every node follows every bot (the store's counts are the same for all), but only the node holding
        // a bot's lease announces its alerts, and it closes what it announced when the bot moves away.
        _ = evaluator.evaluate(observations, now: now)
        let ownership = dispatcher.ownership
        for change in announcer.changes(active: evaluator.active, holds: { ownership.owns($0) }, now: now) {
            announce(change, now: now)
        }
        await oweWebhookPosts()
    }

    private func announce(_ change: AlertAnnouncement, now: Date) {
        let (alert, event, resolvedAt, handedOver): (Alert, CallbackEvent, Date?, Bool) =
            switch change {
            case .raised(let alert): (alert, .alertRaised, nil, false)
            case .resolved(let alert, let at): (alert, .alertResolved, at, false)
            case .handedOver(let alert, let at): (alert, .alertResolved, at, true)
            }
        var metadata: Logger.Metadata = ["alert": "\(alert.key.kind.rawValue)", "bot": "\(alert.key.bot)", "detail": "\(alert.detail)"]
        if let endpoint = alert.key.endpoint { metadata["endpoint"] = "\(endpoint)" }
        if resolvedAt == nil {
            logger.warning("alert raised", metadata: metadata)
        } else {
            logger.info(handedOver ? "alert handed over: the bot moved to another node" : "alert resolved", metadata: metadata)
        }
        guard settings.webhookURL != nil else { return }
        unsent.append((event, alert.key.bot, Self.body(alert, resolvedAt: resolvedAt, handedOver: handedOver), now))
    }

    private func oweWebhookPosts() async {
        guard let url = settings.webhookURL else { return }
        while let next = unsent.first {
            do {
                try await store.enqueueAlert(url: url, event: next.event, bot: next.bot, payload: next.payload, at: next.at)
                unsent.removeFirst()
            } catch {
                logger.warning("cannot owe an alert POST yet", metadata: ["error": "\(error)"])
                return
            }
        }
    }

    /// The webhook body. `id` names the alert occurrence (kind, bot, endpoint, raise time): the raised and the
    /// resolved POST of one occurrence share it, and a receiver deduplicates retries by it and the event.
    static func body(_ alert: Alert, resolvedAt: Date?, handedOver: Bool) -> String {
        let key = alert.key
        var json: [String: Any] = [
            "id": [key.kind.rawValue, key.bot, key.endpoint ?? "", String(Int64(alert.since.timeIntervalSince1970 * 1000))]
                .joined(separator: ":"),
            "alert": key.kind.rawValue, "bot": key.bot, "state": resolvedAt == nil ? "raised" : "resolved",
            "since": UTCTimestamp.string(alert.since), "detail": alert.detail,
        ]
        if let endpoint = key.endpoint { json["endpoint"] = endpoint }
        if let resolvedAt { json["resolved_at"] = UTCTimestamp.string(resolvedAt) }
        if handedOver { json["handed_over"] = true }
        let data = (try? JSONSerialization.data(withJSONObject: json, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    /// The JSON `/v1/status` shows for an alert.
    static func json(_ alert: Alert) -> [String: Any] {
        var json: [String: Any] = [
            "alert": alert.key.kind.rawValue, "bot": alert.key.bot, "since": UTCTimestamp.string(alert.since), "detail": alert.detail,
        ]
        if let endpoint = alert.key.endpoint { json["endpoint"] = endpoint }
        return json
    }
}
