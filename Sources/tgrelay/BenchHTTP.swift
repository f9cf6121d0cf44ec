import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// The benchmarks' HTTP client: one connection pool for every request the bench process makes.
struct BenchHTTP: Sendable {
    let client: HTTPClient

    /// `connections` bounds the pool per host, so a load generator is not throttled by the default of 8.
    static func make(connections: Int = 256) -> BenchHTTP {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: connections)
        return BenchHTTP(client: HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration))
    }

    func shutdown() async {
        try? await client.shutdown()
    }

    /// Sends and reads the whole answer; a transport error surfaces as a thrown error.
    func send(_ url: String, method: HTTPMethod = .GET, body: ByteBuffer? = nil, timeout: Duration = .seconds(30)) async throws -> (status: Int, body: ByteBuffer) {
        var request = HTTPClientRequest(url: url)
        request.method = method
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(body)
        }
        let response = try await client.execute(request, timeout: .init(timeout))
        let answer = try await response.body.collect(upTo: 16 << 20)
        return (Int(response.status.code), answer)
    }

    /// The relay's `GET /v1/status` for the bot named "default": queue depth and final-state counts.
    func relayStatus(_ relay: String) async throws -> RelayStatus {
        let (status, body) = try await send(relay + "/v1/status")
        guard status == 200,
            let json = try JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any],
            let bots = json["bots"] as? [[String: Any]]
        else { throw BenchError("GET /v1/status answered \(status): \(String(buffer: body))") }
        // A bot with nothing stored yet has no row.
        guard let bot = bots.first(where: { $0["bot"] as? String == "default" }) else { return RelayStatus() }
        func int(_ key: String) -> Int { (bot[key] as? NSNumber)?.intValue ?? 0 }
        return RelayStatus(queued: int("queue_depth"), delivered: int("delivered"), failed: int("dead_letters"), expired: int("expired"))
    }
}

struct RelayStatus: Sendable {
    var queued = 0
    var delivered = 0
    var failed = 0
    var expired = 0
}

/// Request bodies for the relay's REST API. Texts carry a sequence number so no two payloads are
/// identical: the relay may treat identical payloads as a client's retry.
enum BenchBodies {
    /// `POST /v1/messages/batch` with messages `range`, message i going to chat `chat(i)`; `paid` adds
    /// `allow_paid_broadcast: true` (the bot's paid rate applies).
    static func batch(_ range: Range<Int>, label: String, paid: Bool = false, chat: (Int) -> Int64) -> ByteBuffer {
        var text = "{\"messages\":["
        text.reserveCapacity(range.count * 96 + 16)
        let extra = paid ? ",\"allow_paid_broadcast\":true" : ""
        for i in range {
            if i != range.lowerBound { text += "," }
            text += "{\"chat_id\":\(chat(i)),\"text\":\"\(label) message \(i)\"\(extra)}"
        }
        text += "]}"
        return ByteBuffer(string: text)
    }

    static func single(index: Int, label: String, chat: Int64) -> ByteBuffer {
        ByteBuffer(string: "{\"chat_id\":\(chat),\"text\":\"\(label) message \(index)\"}")
    }
}

extension BenchHTTP {
    /// Queues `total` messages through the batch endpoint, `batchSize` per request and `concurrency`
    /// requests at a time. Every batch must be accepted whole (202), or the bench stops: figures over a
    /// partly loaded queue would be wrong. Returns the seconds it took.
    @discardableResult
    func loadQueue(
        relay: String, total: Int, batchSize: Int = 1000, concurrency: Int = 2, label: String, paid: Bool = false,
        progress: Bool = false, chat: @escaping @Sendable (Int) -> Int64
    ) async throws -> Double {
        let started = ContinuousClock.now
        let batches = stride(from: 0, to: total, by: batchSize).map { $0..<min($0 + batchSize, total) }
        var done = 0
        try await withThrowingTaskGroup(of: Void.self) { group in
            var next = batches.makeIterator()
            func addNext() -> Bool {
                guard let range = next.next() else { return false }
                group.addTask {
                    let body = BenchBodies.batch(range, label: label, paid: paid, chat: chat)
                    let (status, answer) = try await send(relay + "/v1/messages/batch", method: .POST, body: body, timeout: .seconds(120))
                    guard status == 202 else {
                        throw BenchError("batch of \(range.count) answered \(status): \(String(buffer: answer).prefix(300))")
                    }
                }
                return true
            }
            for _ in 0..<concurrency {
                if !addNext() { break }
            }
            while try await group.next() != nil {
                done += 1
                if progress, done % 100 == 0 {
                    say("  queued \(done * batchSize) of \(total)")
                }
                _ = addNext()
            }
        }
        return (ContinuousClock.now - started).seconds
    }
}

extension Duration {
    var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
