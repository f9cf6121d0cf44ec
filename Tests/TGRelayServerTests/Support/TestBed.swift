import AsyncHTTPClient
import FakeTelegram
import Foundation
import Testing

/// One end-to-end setup: the Bot API simulator in this process, the real relay binary beside it,
/// a store file in a fresh directory, and an HTTP client, all on loopback.
final class TestBed: @unchecked Sendable {
    static let token = "123456:TEST-token-SECRET"
    static let botID: Int64 = 123456

    let telegram: FakeTelegram
    let relay: RelayProcess
    let http: HTTPClient
    let directory: URL
    /// The bearer key of `TGRELAY_API_KEY`, sent by the helpers below (not by `post`, whose caller chooses).
    let authorization: [String: String]

    /// `config` becomes the relay's TGRELAY_CONFIG file (JSON) when given.
    init(limits: FakeLimits = .telegram, config: [String: Any]? = nil, environment: [String: String] = [:]) async throws {
        directory = try temporaryDirectory()
        var configuration = FakeTelegramConfiguration()
        configuration.limits = limits
        telegram = FakeTelegram(configuration: configuration)
        _ = try await telegram.start()
        var environment = environment
        authorization = environment["TGRELAY_API_KEY"].map { ["Authorization": "Bearer \($0)"] } ?? [:]
        if let config {
            let path = directory.appendingPathComponent("config.json")
            try JSONSerialization.data(withJSONObject: config).write(to: path)
            environment["TGRELAY_CONFIG"] = path.path
        }
        http = HTTPClient(eventLoopGroupProvider: .singleton)
        do {
            relay = try RelayProcess(directory: directory, telegramAPI: telegram.baseURL, token: Self.token, environment: environment)
            try await relay.start(http: http)
        } catch {
            // An HTTP client must be shut down before it goes away, even when set-up fails.
            try? await http.shutdown()
            await telegram.stop()
            throw error
        }
    }

    func shutdown() async throws {
        relay.kill9()
        await telegram.stop()
        try await http.shutdown()
        try? FileManager.default.removeItem(at: directory)
    }

    var api: String { relay.baseURL + "/v1" }

    /// Accepts one message; returns the relay's answer.
    @discardableResult
    func post(_ path: String = "/messages", _ body: Any, headers: [String: String] = [:]) async throws -> JSONResponse {
        try await http.json(.POST, api + path, body: body, headers: headers)
    }

    /// Sends a text and returns its id (expects 202).
    func send(chat: Any, text: String, extra: [String: Any] = [:]) async throws -> Int {
        var body: [String: Any] = ["chat_id": chat, "text": text]
        body.merge(extra) { $1 }
        let response = try await post("/messages", body, headers: authorization)
        #expect(response.status == 202, "accept failed: \(response.body)")
        return response["id"] as? Int ?? -1
    }

    func message(_ id: Int) async throws -> [String: Any] {
        try await http.json(.GET, api + "/messages/\(id)", headers: authorization).object
    }

    /// Waits until every message reached a final state; returns them by id.
    func waitFinal(_ ids: [Int], timeout: Duration = .seconds(60)) async throws -> [Int: [String: Any]] {
        var final: [Int: [String: Any]] = [:]
        _ = try await eventually(timeout: timeout, every: .milliseconds(200)) {
            for id in ids where final[id] == nil {
                let message = try await message(id)
                if let status = message["status"] as? String, ["delivered", "failed", "expired", "cancelled"].contains(status) {
                    final[id] = message
                }
            }
            return final.count == ids.count
        }
        return final
    }

    func ledger(messageID: Int) async throws -> [[String: Any]] {
        try await http.json(.GET, api + "/ledger?message_id=\(messageID)", headers: authorization)["entries"] as? [[String: Any]] ?? []
    }

    /// Texts the simulator recorded as delivered to a chat, in delivery order.
    func deliveredTexts(chat: String) -> [String] {
        telegram.messages(bot: Self.botID, chat: chat).compactMap { $0.params["text"]?.stringValue }
    }
}
