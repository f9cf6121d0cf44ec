import AsyncHTTPClient
import FakeTelegram
import Foundation
import NIOCore

/// The demo's script: send, break Telegram on schedule, report progress, check the outcome.
final class DemoRun: @unchecked Sendable {
    static let botID: Int64 = 700_001

    let telegram: FakeTelegram
    let http: HTTPClient
    let api: String
    let messages: Int
    let chats: Int
    let outage: Int
    private(set) var succeeded = false
    private var accepted: [(chat: Int64, text: String)] = []

    init(telegram: FakeTelegram, http: HTTPClient, api: String, messages: Int, chats: Int, outage: Int) {
        self.telegram = telegram
        self.http = http
        self.api = api
        self.messages = messages
        self.chats = chats
        self.outage = outage
    }

    /// Every sixth chat is a group (20 messages a minute), the rest private chats (1 a second).
    func chat(_ index: Int) -> Int64 {
        index % 6 == 5 ? -1_000_000 - Int64(index) : 100_000 + Int64(index)
    }

    func waitUntilUp() async throws {
        for _ in 0..<100 {
            if (try? await get("/healthz")) != nil { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw DemoError("the relay did not start on \(api)")
    }

    func run() async throws {
        print("tgrelay demo: relay on \(api) (status: \(api)/v1/status), simulated Telegram on \(telegram.baseURL)")
        print("sending \(messages) messages to \(chats) chats; a 429 burst at 3 s, Telegram down from 8 s for \(outage) s\n")
        var burst = FakeFault(kind: .tooManyRequests)
        burst.start = 3
        burst.count = 8
        burst.retryAfter = 3
        var down = FakeFault(kind: .outage)
        down.start = 8
        down.duration = Double(outage)
        try telegram.addFault(burst)
        try telegram.addFault(down)

        let clock = ContinuousClock()
        let started = clock.now
        // Three waves: before, just before and during the outage.
        let waves = [0, messages / 2, messages * 3 / 4, messages]
        var wave = 0
        var lastLine = ""
        while clock.now - started < .seconds(240) {
            let elapsed = Int((clock.now - started).components.seconds)
            if wave < 3, elapsed >= [0, 6, 12][wave] {
                try await send(range: waves[wave]..<waves[wave + 1])
                wave += 1
            }
            let line = try await progressLine(elapsed: elapsed)
            if line != lastLine {
                print(line)
                lastLine = line
            }
            if wave == 3, telegram.stats().messagesDelivered >= accepted.count { break }
            try await Task.sleep(for: .seconds(1))
        }
        summarize(seconds: Double((clock.now - started).components.seconds))
    }

    private func send(range: Range<Int>) async throws {
        guard !range.isEmpty else { return }
        let batch: [[String: Any]] = range.map { index in
            let chat = chat(index % chats)
            let text = "demo message \(index) for chat \(chat)"
            accepted.append((chat, text))
            return ["chat_id": chat, "text": text]
        }
        var request = HTTPClientRequest(url: api + "/v1/messages/batch")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: ["messages": batch])))
        let response = try await http.execute(request, timeout: .seconds(30))
        guard response.status == .accepted else { throw DemoError("the relay refused the batch: \(response.status)") }
    }

    private func progressLine(elapsed: Int) async throws -> String {
        let status = try await get("/v1/status")
        let bot = (status["bots"] as? [[String: Any]])?.first ?? [:]
        let endpoint = (bot["endpoints"] as? [[String: Any]])?.first ?? [:]
        let stats = telegram.stats()
        var line = String(
            format: "%3ds  accepted %4d  delivered %4d  waiting %4d  429s %2d", elapsed, accepted.count,
            stats.messagesDelivered, bot["queue_depth"] as? Int ?? 0, stats.tooManyRequestsTotal)
        if endpoint["circuit"] as? String != "closed", let since = endpoint["outage_since"] as? String {
            line += "  Telegram unreachable since \(since.dropFirst(11).prefix(8)): messages held"
        }
        return line
    }

    private func summarize(seconds: Double) {
        let stats = telegram.stats()
        let delivered = telegram.messages(bot: Self.botID)
        let texts = Set(delivered.compactMap { $0.params["text"]?.stringValue })
        let lost = accepted.filter { !texts.contains($0.text) }.count
        var orderKept = true
        for chat in Set(accepted.map(\.chat)) {
            let expected = accepted.filter { $0.chat == chat }.map(\.text)
            var seen: [String] = []
            for message in telegram.messages(bot: Self.botID, chat: String(chat)) {
                if let text = message.params["text"]?.stringValue, !seen.contains(text) { seen.append(text) }
            }
            if seen != expected { orderKept = false }
        }
        succeeded = lost == 0 && orderKept && stats.limitViolations == 0
        print("""

            summary after \(Int(seconds)) s (read from the simulator):
              accepted        \(accepted.count)
              delivered       \(texts.count)
              lost            \(lost)
              order kept      \(orderKept ? "yes, in every chat" : "NO")
              429s            \(stats.injectedTooManyRequests) injected, \(stats.limitViolations) caused by exceeding a limit \(stats.limitViolationsByKind)
              duplicates      \(stats.duplicatePayloads)
            \(succeeded ? "nothing lost." : "FAILED: see above.")
            """)
    }

    private func get(_ path: String) async throws -> [String: Any] {
        let response = try await http.execute(HTTPClientRequest(url: api + path), timeout: .seconds(5))
        let body = try await response.body.collect(upTo: 1 << 20)
        return (try JSONSerialization.jsonObject(with: Data(buffer: body))) as? [String: Any] ?? [:]
    }
}

struct DemoError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
