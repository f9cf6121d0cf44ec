import Foundation
import NIOCore
import NIOHTTP1
import TGRelayCore
import TelegramBotAPI

/// Calls that are not sends go to Telegram as they came, and Telegram's answer comes back unchanged.
/// Within `budget` the relay absorbs what a library would otherwise see as a failure: an endpoint that
/// refuses connections (the next configured one is tried), 5xx answers, and a 429 whose `retry_after`
/// fits in the budget. A request that may have reached Telegram without an answer is not repeated.
struct ProxyPassthrough {
    let client: BotAPIClient
    let endpoints: [String]
    let budget: Duration
    let requestTimeout: Duration

    /// What a library sees when no endpoint answered at all.
    static let unreachable = ProxyAnswer(status: 502, body: Array(#"{"ok":false,"error_code":502,"description":"Bad Gateway"}"#.utf8))

    func forward(
        token: String, method: String, httpMethod: HTTPMethod, contentType: String?, body: ByteBuffer?, query: String?,
        params: [String: JSONValue]
    ) async -> ProxyAnswer {
        // A long poll holds the request for its `timeout`; the answer must not be cut before that.
        let poll = params["timeout"].flatMap { $0.int64Value ?? $0.stringValue.flatMap { Int64($0) } } ?? 0
        let timeout = requestTimeout + .seconds(max(0, min(poll, 3600)))
        return await withRetries { endpoint in
            await client.forward(
                endpoint: endpoint, token: token, method: method, httpMethod: httpMethod, contentType: contentType, body: body,
                query: query, timeout: timeout)
        }
    }

    func download(token: String, path: String) async -> ProxyAnswer {
        await withRetries { endpoint in
            await client.downloadFile(endpoint: endpoint, token: token, path: path, timeout: requestTimeout)
        }
    }

    private func withRetries(_ call: (String) async -> BotAPIResponse) async -> ProxyAnswer {
        let clock = ContinuousClock()
        let deadline = clock.now + budget
        var backoff = Duration.milliseconds(250)
        while true {
            var response = BotAPIResponse.failure(.notSent("no endpoint"))
            for endpoint in endpoints {
                response = await call(endpoint)
                if case .failure(.notSent) = response { continue }
                break
            }
            var wait = backoff
            switch response {
            case .answer(let status, let body):
                if status == 429, let retryAfter = TelegramEnvelope(body).retryAfter {
                    wait = .seconds(retryAfter)
                } else if status < 500 {
                    return ProxyAnswer(status: status, body: body)
                }
            case .failure(.mayHaveBeenSent):
                return Self.unreachable
            case .failure(.notSent):
                break
            }
            guard clock.now + wait < deadline else {
                if case .answer(let status, let body) = response { return ProxyAnswer(status: status, body: body) }
                return Self.unreachable
            }
            try? await Task.sleep(for: wait)
            backoff *= 2
        }
    }
}
