import AsyncHTTPClient
import FakeTelegram
import Foundation
import Synchronization
import TGRelayStore

enum Inbound {
    /// Inbound on, short long polls and short backoffs: the simulator, not the clock, sets the pace.
    static func config(_ extra: [String: Any] = [:]) -> [String: Any] {
        let inbound: [String: Any] = ["enabled": true, "poll_timeout_seconds": 2, "poll_max_backoff_seconds": 1]
        return REST.config(["inbound": inbound.merging(extra) { $1 }])
    }

    /// A user's text message to the bot in one of `chats` private chats; returns the update_ids.
    static func inject(_ telegram: FakeTelegram, count: Int, chats: Int = 50, tag: String) throws -> [Int64] {
        try (0..<count).compactMap { i in
            try telegram.injectMessage(bot: TestBed.botID, chatID: Int64(70_000 + i % chats), text: "\(tag) \(i)")
        }
    }
}

/// An app reading updates from the relay with getUpdates, confirming by offset, as a bot library does;
/// relay restarts show up as failed calls, which it simply retries.
final class GetUpdatesConsumer: Sendable {
    private let seen = Mutex<[(id: Int64, text: String?)]>([])
    private let task = Mutex<Task<Void, Never>?>(nil)

    var updateIDs: [Int64] { seen.withLock { $0.map(\.id) } }
    /// The messages' texts, in the order received.
    var texts: [String?] { seen.withLock { $0.map(\.text) } }

    func start(bed: TestBed) {
        start(relay: bed.relay.baseURL, http: bed.http)
    }

    func start(relay: String, http: HTTPClient) {
        let url = relay + "/bot\(TestBed.token)/getUpdates"
        task.withLock {
            $0 = Task {
                var offset: Int64 = 0
                while !Task.isCancelled {
                    let body: [String: Any] = ["offset": offset, "timeout": 1, "limit": 100]
                    guard let answer = try? await http.json(.POST, url, body: body, timeout: .seconds(10)), answer.status == 200,
                        let result = answer["result"] as? [[String: Any]]
                    else {
                        try? await Task.sleep(for: .milliseconds(100))
                        continue
                    }
                    let updates = result.compactMap { update in
                        ((update["update_id"] as? NSNumber)?.int64Value).map { ($0, (update["message"] as? [String: Any])?["text"] as? String) }
                    }
                    seen.withLock { $0 += updates }
                    if let last = updates.last { offset = last.0 + 1 }
                }
            }
        }
    }

    func stop() async {
        let task = task.withLock { $0 }
        task?.cancel()
        await task?.value
    }
}

extension TestBed {
    /// The relay's store, opened beside it (or after it was killed) to check what is committed.
    func openStore() async throws -> any MessageStore {
        try await makeStore(.sqlite(path: relay.databasePath))
    }

    /// `/v1/status` of the default bot's inbox.
    func inboxStatus() async throws -> [String: Any] {
        let bots = try await http.json(.GET, api + "/status")["bots"] as? [[String: Any]] ?? []
        return bots.first { $0["bot"] as? String == "default" }?["inbox"] as? [String: Any] ?? [:]
    }

    /// Runs `tgrelay <arguments>` with the relay's environment.
    func runCLI(_ arguments: [String]) throws -> ProcessResult {
        try runProcess(RelayProcess.binary, arguments, environment: relay.environment)
    }
}
