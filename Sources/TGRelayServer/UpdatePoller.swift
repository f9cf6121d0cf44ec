import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import TGRelayCore
import TGRelayStore
import TelegramBotAPI

/// What `/v1/status` shows of each bot's polling loop.
final class PollStatusBoard: Sendable {
    struct Entry: Sendable {
        var mode = "polling"
        var lastSuccess: Date?
        var lastError: String?
        /// Since when getUpdates has answered 409 (another poller, or a webhook set elsewhere).
        var conflictSince: Date?
    }

    private let entries = Mutex<[String: Entry]>([:])

    func update(_ bot: String, _ change: (inout Entry) -> Void) {
        entries.withLock { change(&$0[bot, default: Entry()]) }
    }

    func snapshot() -> [String: Entry] {
        entries.withLock { $0 }
    }
}

/// Long-polls getUpdates for every configured bot in polling mode and commits each batch before the next
/// call confirms it: the offset sent is the committed batch's highest update_id + 1, and it is sent only
/// to confirm that batch. At start and after an empty answer no offset is sent (Telegram then returns
/// what is unconfirmed, which a restart may repeat; the store ignores duplicates): an offset remembered
/// across a quiet spell would confirm unseen the updates of a bot whose ids Telegram restarted lower
/// (TELEGRAM.md "Updates"), and one read from the store after a crash could do the same.
///
/// Failures back off exponentially with jitter; a 409 conflict waits at least `PollBackoff.conflictMinimum`
/// and raises the `polling_conflict` alert (resolved by the next successful poll), so two pollers never
/// fight in a tight loop. Old updates are pruned after the retention.
struct UpdatePoller: Service {
    let configuration: RelayConfiguration
    let store: any MessageStore
    let client: BotAPIClient
    let ingest: InboxIngest
    let board: PollStatusBoard
    let alerts: AlertMonitor
    /// A bot is polled only while this node holds its lease: two pollers would make Telegram answer 409.
    let ownership: BotOwnership
    let logger: Logger
    /// How often a bot in webhook mode checks whether it went back to polling (`tgrelay webhook delete`).
    let modeCheckInterval: Duration = .seconds(2)
    let pruneInterval: Duration = .seconds(600)

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                for bot in configuration.bots where bot.inbound.enabled {
                    group.addTask { await ownership.whileOwned(bot.name) { await poll(bot) } }
                }
                group.addTask { await pruneLoop() }
            }
        }
        logger.info("update poller stopped")
    }

    private enum Outcome {
        /// The batch is committed; its highest update_id, nil when it was empty.
        case stored(highest: Int64?)
        case conflict(String)
        case failed(String, retryAfter: TimeInterval?)
    }

    private func poll(_ bot: RelayConfiguration.Bot) async {
        var failures = 0
        var inConflict = false
        /// Confirms the last committed batch; nil once Telegram has taken it.
        var offset: Int64?
        var random = SystemRandomNumberGenerator()
        while !Task.isCancelled {
            let settings: InboxSettings
            do {
                settings = try await store.inboxSettings(bot: bot.name)
            } catch {
                logger.warning("cannot read inbox settings", metadata: ["bot": "\(bot.name)", "error": "\(error)"])
                try? await Task.sleep(for: .seconds(1))
                continue
            }
            if case .webhook = settings.mode {
                offset = nil
                board.update(bot.name) { $0.mode = "webhook" }
                try? await Task.sleep(for: modeCheckInterval)
                continue
            }
            board.update(bot.name) { $0.mode = "polling" }
            let endpoint = configuration.telegramEndpoints[failures % configuration.telegramEndpoints.count]
            switch await getUpdates(bot, endpoint: endpoint, offset: offset, allowedUpdates: Self.allowedUpdates(bot, settings)) {
            case .stored(let highest):
                offset = highest.map { $0 + 1 }
                failures = 0
                if inConflict {
                    inConflict = false
                    await alerts.setPollingConflict(bot: bot.name, detail: nil)
                }
                board.update(bot.name) {
                    $0.lastSuccess = Date()
                    $0.lastError = nil
                    $0.conflictSince = nil
                }
            case .conflict(let description):
                failures += 1
                if !inConflict {
                    inConflict = true
                    await alerts.setPollingConflict(bot: bot.name, detail: description)
                }
                let since = Date()
                board.update(bot.name) {
                    $0.lastError = description
                    $0.conflictSince = $0.conflictSince ?? since
                }
                logger.error(
                    "polling conflict: another getUpdates or a webhook is active for this bot",
                    metadata: ["bot": "\(bot.name)", "description": "\(description)"])
                let delay = bot.inbound.pollBackoff.delay(afterFailures: failures, conflict: true, random: &random)
                try? await Task.sleep(for: .seconds(delay))
            case .failed(let reason, let retryAfter):
                failures += 1
                board.update(bot.name) { $0.lastError = reason }
                logger.warning("getUpdates failed", metadata: ["bot": "\(bot.name)", "error": "\(reason)"])
                let delay = retryAfter ?? bot.inbound.pollBackoff.delay(afterFailures: failures, conflict: false, random: &random)
                try? await Task.sleep(for: .seconds(delay))
            }
        }
    }

    /// The update types to ask Telegram for: the bot's configured ones, else what the app asked the relay
    /// for (its push target's while one is set, else its getUpdates'), else Telegram's default. Always sent,
    /// so a narrowing the app takes back also ends at Telegram, which otherwise keeps the previous setting.
    static func allowedUpdates(_ bot: RelayConfiguration.Bot, _ settings: InboxSettings) -> [String] {
        bot.inbound.allowedUpdates ?? (settings.push.map(\.allowedUpdates) ?? settings.consumerAllowedUpdates) ?? []
    }

    /// One getUpdates call; its batch is committed before this returns `.stored`.
    private func getUpdates(_ bot: RelayConfiguration.Bot, endpoint: String, offset: Int64?, allowedUpdates: [String]) async -> Outcome {
        var params: [String: JSONValue] = [
            "timeout": .number(JSONNumber(Int64(bot.inbound.pollTimeout))), "limit": .number(JSONNumber(100)),
            "allowed_updates": .array(allowedUpdates.map { .string($0) }),
        ]
        if let offset { params["offset"] = .number(JSONNumber(offset)) }
        let response = await client.call(
            endpoint: endpoint, token: bot.token, method: "getUpdates", json: Array(CanonicalJSON.serialize(.object(params)).utf8),
            timeout: .seconds(bot.inbound.pollTimeout + 15))
        guard case .answer(let status, let body) = response else {
            if case .failure(let failure) = response { return .failed("\(failure)", retryAfter: nil) }
            return .failed("no answer", retryAfter: nil)
        }
        let answer = try? JSONParser.parse(body)
        let description = answer?["description"]?.stringValue ?? "HTTP \(status)"
        if status == 409 { return .conflict(description) }
        guard status == 200, answer?["ok"]?.boolValue == true, let results = answer?["result"]?.arrayValue else {
            let retryAfter = answer?["parameters"]?["retry_after"]?.int64Value.map { TimeInterval($0) }
            return .failed("HTTP \(status): \(description)", retryAfter: retryAfter)
        }
        // Every id counts for the offset, an unreadable update's too, so that it is confirmed, not re-sent.
        let highest = results.compactMap { $0["update_id"]?.int64Value }.max()
        var updates: [InboundUpdate] = []
        for value in results {
            do {
                updates.append(try InboundUpdate(value))
            } catch {
                // Telegram does not send these; one that cannot be read is skipped rather than stalling the bot.
                logger.error("skipping an unreadable update", metadata: ["bot": "\(bot.name)", "error": "\(error)"])
            }
        }
        do {
            try await ingest.ingest(bot: bot.name, updates)
            return .stored(highest: highest)
        } catch {
            // Not committed, so not confirmed: the next call repeats the same offset and gets them again.
            return .failed("store: \(error)", retryAfter: nil)
        }
    }

    private func pruneLoop() async {
        while !Task.isCancelled {
            do {
                let pruned = try await store.pruneInbox(before: Date().addingTimeInterval(-configuration.inbound.retention))
                if pruned > 0 { logger.info("pruned old inbound updates", metadata: ["count": "\(pruned)"]) }
            } catch {
                logger.warning("cannot prune the inbox", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: pruneInterval)
        }
    }
}
