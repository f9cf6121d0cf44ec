import AsyncHTTPClient
import FakeTelegram
import Foundation
import NIOCore
import NIOHTTP1
import Testing

/// Helpers for the REST API suites: unpaced configurations, raw requests and child processes.
enum REST {
    /// No pacing in the relay and (with `FakeLimits.off`) none in the simulator: these suites test the API,
    /// not rate limits, and must stay fast.
    static func config(_ extra: [String: Any] = [:], options: [String: Any] = [:]) -> [String: Any] {
        var config: [String: Any] = ["rate_limits": "off"]
        config["options"] = ["max_attempts": 3, "request_timeout_seconds": 2].merging(options) { $1 }
        return config.merging(extra) { $1 }
    }

    static let finalStatuses: Set<String> = ["delivered", "failed", "expired", "cancelled"]
}

extension TestBed {
    /// A bed for REST tests: limits off on both sides.
    static func rest(
        config: [String: Any] = REST.config(), environment: [String: String] = [:]
    ) async throws -> TestBed {
        try await TestBed(limits: .off, config: config, environment: environment)
    }

    /// Sends a body whose length is not announced (chunked transfer encoding), so the relay can only
    /// notice its size while reading it.
    func postChunked(_ path: String, _ text: String, chunk: Int = 1024) async throws -> JSONResponse {
        var request = HTTPClientRequest(url: api + path)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        let bytes = Array(text.utf8)
        let chunks = stride(from: 0, to: bytes.count, by: chunk).map { ByteBuffer(bytes: bytes[$0..<min($0 + chunk, bytes.count)]) }
        request.body = .stream(BodyChunks(elements: chunks), length: .unknown)
        let response = try await http.execute(request, timeout: .seconds(30))
        let data = Data(buffer: try await response.body.collect(upTo: 1 << 20))
        let parsed = (try? JSONSerialization.jsonObject(with: data, options: .fragmentsAllowed)) ?? String(decoding: data, as: UTF8.self)
        return JSONResponse(status: Int(response.status.code), headers: [:], body: parsed)
    }

    /// The simulator's recorded sends of the test bot, all chats.
    var recordedSends: [FakeRecordedMessage] { telegram.messages(bot: Self.botID) }

    /// The bot's entry in `/v1/status`.
    func botStatus(_ name: String = "default") async throws -> [String: Any]? {
        let bots = try await http.json(.GET, api + "/status", headers: authorization)["bots"] as? [[String: Any]] ?? []
        return bots.first { $0["bot"] as? String == name }
    }
}

/// Chunks of a request body as an async sequence.
struct BodyChunks: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let elements: [ByteBuffer]
    struct AsyncIterator: AsyncIteratorProtocol {
        var index = 0
        let elements: [ByteBuffer]
        mutating func next() async -> Element? {
            guard index < elements.count else { return nil }
            defer { index += 1 }
            return elements[index]
        }
    }
    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(elements: elements) }
}

/// A finished child process: exit status and everything it printed.
struct ProcessResult {
    var status: Int32
    var output: String
}

/// Runs a program to completion, stdout and stderr together.
func runProcess(_ executable: String, _ arguments: [String], environment: [String: String]? = nil) throws -> ProcessResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    if let environment { process.environment = environment }
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return ProcessResult(status: process.terminationStatus, output: String(decoding: data, as: UTF8.self))
}

/// Runs SQL on a store file outside the relay: the sqlite3 shell when present, else Python's sqlite3 module
/// (the test target does not link GRDB).
func runSQL(_ sql: String, database: String) throws -> ProcessResult {
    if FileManager.default.isExecutableFile(atPath: "/usr/bin/sqlite3") {
        return try runProcess("/usr/bin/sqlite3", [database, sql])
    }
    let script = "import sqlite3,sys\nc=sqlite3.connect(sys.argv[1])\nc.executescript(sys.argv[2])\nc.commit()\n"
    return try runProcess("/usr/bin/env", ["python3", "-c", script, database, sql])
}
