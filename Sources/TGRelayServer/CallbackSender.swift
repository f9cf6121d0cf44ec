import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import ServiceLifecycle
import TGRelayCore
import TGRelayStore

/// Delivers the status callbacks the store owes: POSTs each due one, signed, and records the outcome
/// (delivered on 2xx; otherwise retried by `CallbackPolicy` until its horizon, then failed).
///
/// The store is the queue, so a crash at any point only means a callback is sent again (at least once):
/// receivers deduplicate by `callback_id`. Due callbacks are polled, since a poll of the partial index on
/// pending rows costs next to nothing and needs no wake-up wiring into every path that makes a message final.
public actor CallbackSender: Service {
    let store: any MessageStore
    let http: HTTPClient
    let settings: RelayConfiguration.Callbacks
    let secret: [UInt8]
    let logger: Logger
    /// Slow receivers must not hold up the others, but one relay should not flood them either.
    let maxConcurrent = 16
    let pollInterval: Duration = .milliseconds(200)
    private var inFlight: Set<Int64> = []
    private var stopping = false
    private var random = SystemRandomNumberGenerator()

    /// Nil when callbacks are not configured (no secret): nothing is ever owed then, since every
    /// `callback_url` is refused at accept and `callbacks.url` needs the secret.
    public init?(configuration: RelayConfiguration, store: any MessageStore, http: HTTPClient, logger: Logger) {
        guard let secret = configuration.callbacks.secret else { return nil }
        self.store = store
        self.http = http
        self.settings = configuration.callbacks
        self.secret = secret
        self.logger = logger
    }

    public func run() async throws {
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                while !stopping, !Task.isCancelled {
                    await startDue(group: &group)
                    try? await Task.sleep(for: pollInterval)
                }
            }
        } onGracefulShutdown: {
            Task { await self.stop() }
        }
        logger.info("callback sender stopped")
    }

    private func stop() {
        stopping = true
    }

    private func startDue(group: inout DiscardingTaskGroup) async {
        let free = maxConcurrent - inFlight.count
        guard free > 0 else { return }
        let due: [OwedCallback]
        do {
            due = try await store.dueCallbacks(now: Date(), limit: maxConcurrent * 2)
        } catch {
            // The store may be briefly unavailable (disk full, locked): callbacks wait, the relay keeps running.
            logger.warning("cannot read due callbacks", metadata: ["error": "\(error)"])
            try? await Task.sleep(for: .seconds(1))
            return
        }
        for callback in due.filter({ !inFlight.contains($0.id) }).prefix(free) {
            inFlight.insert(callback.id)
            group.addTask { await self.deliver(callback) }
        }
    }

    private func deliver(_ callback: OwedCallback) async {
        let error = await post(callback)
        let now = Date()
        let outcome: CallbackOutcome
        if let error {
            switch settings.policy.afterFailure(tries: callback.tries + 1, owedSince: callback.at, now: now, random: &random) {
            case .retry(let next): outcome = .retry(at: next, error: error)
            case .giveUp:
                outcome = .gaveUp(error: error)
                logger.warning(
                    "status callback given up", metadata: ["callback_id": "\(callback.id)", "message_id": "\(callback.messageID)", "error": "\(error)"])
            }
        } else {
            outcome = .delivered
        }
        do {
            try await store.recordCallbackAttempt(id: callback.id, at: now, outcome: outcome)
        } catch {
            // Left pending as it was: it is simply due again, and sent again (at least once).
            logger.warning("cannot record a callback attempt", metadata: ["callback_id": "\(callback.id)", "error": "\(error)"])
        }
        inFlight.remove(callback.id)
    }

    /// One signed POST; nil when the receiver answered 2xx, else why not.
    private func post(_ callback: OwedCallback) async -> String? {
        let body = Self.body(callback)
        let timestamp = Int64(Date().timeIntervalSince1970)
        var request = HTTPClientRequest(url: callback.url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "tgrelay")
        request.headers.add(name: CallbackSignature.timestampHeader, value: String(timestamp))
        request.headers.add(name: CallbackSignature.signatureHeader, value: CallbackSignature.sign(secret: secret, timestamp: timestamp, body: body))
        request.headers.add(name: CallbackSignature.eventHeader, value: "message.\(callback.event.rawValue)")
        request.body = .bytes(ByteBuffer(bytes: body))
        do {
            let (seconds, attoseconds) = settings.timeout.components
            let response = try await http.execute(request, timeout: .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000))
            // Read the answer so the connection can be reused; its content does not matter.
            _ = try? await response.body.collect(upTo: 64 << 10)
            guard (200..<300).contains(response.status.code) else { return "HTTP \(response.status.code)" }
            return nil
        } catch {
            return String(String(describing: error).prefix(200))
        }
    }

    /// The JSON body: the message as it was when it reached its final state, keys sorted so retries of
    /// one callback send the same bytes.
    static func body(_ callback: OwedCallback) -> [UInt8] {
        let json: [String: Any] = [
            "callback_id": callback.id, "id": callback.messageID, "bot": callback.bot, "chat_id": callback.chat,
            "status": callback.event.rawValue, "attempts": callback.messageAttempts,
            "message_id": callback.telegramMessageIDs.first.map { $0 as Any } ?? NSNull(),
            "last_error": callback.lastError.map { $0 as Any } ?? NSNull(), "ambiguous": callback.ambiguous,
            "at": MessageView.timestamp(callback.at),
        ]
        let data = (try? JSONSerialization.data(withJSONObject: json, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        return Array(data)
    }
}
