import FakeTelegram
import Foundation
import Logging
import Testing

@testable import TGRelayServer

/// `/metrics` scraped from the real process after real deliveries, and every line the process printed
/// checked for secrets and structure.
@Suite(.serialized)
struct MetricsAndLogsTests {
    static let key = "ops-Metrics-Key-4e1b-SECRET"
    static let auth = ["Authorization": "Bearer \(key)"]

    @Test func metricsCountWhatWasSentAndLogsAreStructuredWithoutSecrets() async throws {
        let bed = try await TestBed.rest(environment: [
            "TGRELAY_API_KEY": Self.key, "TGRELAY_LOG_LEVEL": "trace", "TGRELAY_LOG_FORMAT": "json",
        ])
        defer { Task { try await bed.shutdown() } }
        var notFound = FakeFault(kind: .chatNotFound)
        notFound.chat = "-4040"
        try bed.telegram.addFault(notFound)
        var tooMany = FakeFault(kind: .tooManyRequests)
        tooMany.chat = "777"
        tooMany.retryAfter = 30
        try bed.telegram.addFault(tooMany)
        var hiccup = FakeFault(kind: .internalError)
        hiccup.chat = "1001"
        hiccup.count = 1
        try bed.telegram.addFault(hiccup)

        var ids: [Int] = []
        for chat in 1001...1005 { ids.append(try await send(bed, ["chat_id": chat, "text": "hello \(chat)"])) }
        for text in ["gone 1", "gone 2"] { ids.append(try await send(bed, ["chat_id": -4040, "text": text])) }
        // 429 with a retry_after beyond the message's deadline: expired.
        ids.append(try await send(bed, ["chat_id": 777, "text": "too late", "ttl_seconds": 5]))
        let final = try await bed.waitFinal(ids, timeout: .seconds(30))
        #expect(final.count == ids.count)

        #expect(try await bed.http.json(.GET, bed.relay.baseURL + "/metrics").status == 401, "metrics need the API key")
        let scrape = try await bed.http.json(.GET, bed.relay.baseURL + "/metrics", headers: Self.auth)
        #expect(scrape.status == 200)
        #expect(scrape.headers["content-type"]?.hasPrefix("text/plain") == true)
        let text = try #require(scrape.body as? String)
        let metrics = PrometheusText(text)
        let bot = ["bot": "default"]
        #expect(metrics["tgrelay_messages_accepted_total", bot] == 8, "\(text)")
        #expect(metrics["tgrelay_messages_delivered_total", bot] == 5)
        #expect(metrics["tgrelay_messages_failed_total", bot] == 2)
        #expect(metrics["tgrelay_messages_expired_total", bot] == 1)
        #expect(metrics["tgrelay_attempts_total", ["bot": "default", "outcome": "delivered"]] == 5)
        #expect(metrics["tgrelay_attempts_total", ["bot": "default", "outcome": "transient"]] == 1)
        #expect(metrics["tgrelay_attempts_total", ["bot": "default", "outcome": "rejected"]] == 2)
        #expect(metrics["tgrelay_attempts_total", ["bot": "default", "outcome": "rate_limited"]] == 1)
        #expect(metrics["tgrelay_rate_limited_total", bot] == 1)
        #expect(metrics["tgrelay_send_duration_seconds_count", bot] == 9)
        #expect(metrics["tgrelay_queue_depth", bot] == 0)
        #expect(metrics["tgrelay_oldest_waiting_seconds", bot] == 0)
        #expect(metrics["tgrelay_dead_letters", bot] == 2)
        #expect(metrics["tgrelay_circuit_state", ["bot": "default", "endpoint": bed.telegram.baseURL]] == 0)
        #expect(metrics["tgrelay_bot_lease_held", bot] == 1, "the only node holds its bot")
        #expect(!text.contains(TestBed.token) && !text.contains(Self.key))

        // A message told to wait (429, retry_after 3 s) shows in the queue gauges while it waits.
        var wait = FakeFault(kind: .tooManyRequests)
        wait.chat = "1010"
        wait.retryAfter = 3
        wait.count = 1
        try bed.telegram.addFault(wait)
        let held = try await send(bed, ["chat_id": 1010, "text": "held"])
        #expect(try await eventually(timeout: .seconds(10)) {
            let now = PrometheusText(try await bed.http.json(.GET, bed.relay.baseURL + "/metrics", headers: Self.auth).body as? String ?? "")
            return now["tgrelay_queue_depth", bot] == 1 && (now["tgrelay_oldest_waiting_seconds", bot] ?? 0) > 0
        })
        #expect(try await bed.waitFinal([held], timeout: .seconds(30))[held]?["status"] as? String == "delivered")

        #expect(bed.relay.terminate() == 0)
        let lines = bed.relay.logText.split(separator: "\n")
        #expect(!lines.isEmpty)
        for line in lines {
            #expect(!line.contains(TestBed.token) && !line.contains(Self.key) && !line.contains("TEST-token"), "\(line)")
            let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            #expect(object?["level"] is String && object?["message"] is String, "not a JSON log line: \(line)")
        }
        let objects = lines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        // One line per state change at info: every accept, every attempt with the state it led to.
        let accepted = objects.filter { $0["message"] as? String == "message accepted" && $0["level"] as? String == "info" }
        #expect(accepted.count == 9)
        let attempts = objects.filter { $0["message"] as? String == "attempt" }
        #expect(attempts.contains { $0["status"] as? String == "expired" && $0["outcome"] as? String == "rate_limited" })
        #expect(attempts.filter { $0["status"] as? String == "delivered" }.count == 6)
    }

    @Test func redactionCoversConfiguredSecretsAndTokenShapes() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("tgrelay-log-\(UUID().uuidString)").path
        FileManager.default.createFile(atPath: path, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let output = LogOutput(try FileHandle(forWritingTo: URL(fileURLWithPath: path)))
        let unknownToken = "987654321:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawZ"
        for format in RelayLogHandler.Format.allCases {
            var logger = Logger(label: "test") { label in
                RelayLogHandler(label: label, format: format, redactor: SecretRedactor(secrets: ["short-api-key-1", "1:x"]), output: output)
            }
            logger[metadataKey: "fixed"] = "key short-api-key-1 inside"
            logger.info(
                "calling https://api.telegram.org/bot\(unknownToken)/sendMessage",
                metadata: ["url": "/bot\(unknownToken)/getMe", "note": "with \"quotes\" and\nnewline"])
        }
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let lines = text.split(separator: "\n")
        #expect(lines.count == 2, "one line per event, newlines escaped: \(text)")
        #expect(!text.contains(unknownToken) && !text.contains("short-api-key-1"))
        #expect(text.contains("[REDACTED]"))
        // The two-character secret "1:x" is too short to redact safely (it would mangle ordinary text).
        #expect(lines[0].contains(#"note="with \"quotes\" and\nnewline""#), "\(lines[0])")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(lines[1].utf8)) as? [String: Any])
        #expect(json["message"] as? String == "calling https://api.telegram.org/bot[REDACTED]/sendMessage")
        #expect(json["fixed"] as? String == "key [REDACTED] inside")
    }

    private func send(_ bed: TestBed, _ body: [String: Any]) async throws -> Int {
        let response = try await bed.post("/messages", body, headers: Self.auth)
        #expect(response.status == 202, "\(response.body)")
        return response["id"] as? Int ?? -1
    }
}

/// Sample values of a Prometheus text exposition, looked up by name and labels.
struct PrometheusText {
    var samples: [(name: String, labels: [String: String], value: Double)] = []

    init(_ text: String) {
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
            let series = line[..<space]
            let name = String(series.prefix { $0 != "{" })
            var labels: [String: String] = [:]
            for match in series.matches(of: /(\w+)="([^"]*)"/) { labels[String(match.1)] = String(match.2) }
            samples.append((name, labels, value))
        }
    }

    subscript(name: String, labels: [String: String]) -> Double? {
        samples.first { $0.name == name && $0.labels == labels }?.value
    }
}
