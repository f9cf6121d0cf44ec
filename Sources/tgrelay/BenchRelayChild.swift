import FakeTelegram
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The relay under test: `tgrelay serve` started from this very binary, on a fresh SQLite file in a
/// temporary folder, listening on a free loopback port. A separate process, so that its CPU time and
/// memory can be read from /proc without the load generator's mixed in.
final class RelayChild {
    let port: Int
    let directory: URL
    private let environment: [String: String]
    private let logLevel: String
    private var process: Process?
    private let http: BenchHTTP

    var baseURL: String { "http://127.0.0.1:\(port)" }
    var databasePath: String { directory.appendingPathComponent("relay.sqlite").path }
    var logPath: String { directory.appendingPathComponent("relay.log").path }
    var pid: Int32 { process?.processIdentifier ?? 0 }

    /// `telegramAPI` is the Bot API base URL the relay sends to; `extra` adds settings such as
    /// `TGRELAY_RATE_LIMITS=off`.
    init(directory: URL, telegramAPI: String, extra: [String: String] = [:], logLevel: String, http: BenchHTTP) throws {
        self.directory = directory
        self.port = try ProcStats.freePort()
        self.logLevel = logLevel
        self.http = http
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("TGRELAY_") }
        environment["TGRELAY_DATABASE"] = "sqlite:" + directory.appendingPathComponent("relay.sqlite").path
        environment["TGRELAY_LISTEN"] = "127.0.0.1:\(port)"
        environment["TGRELAY_TELEGRAM_API"] = telegramAPI
        // The simulator accepts any well-formed token; the bot is named "default".
        environment["TGRELAY_BOT_TOKEN"] = "100200300:bench-token"
        environment.merge(extra) { $1 }
        self.environment = environment
    }

    /// Makes a fresh temporary folder for one bench run.
    static func temporaryDirectory(scenario: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("tgrelay-bench-\(scenario)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Launches the relay (again, on the same database, after `stop`) and waits until it answers /healthz.
    func start() async throws {
        let executable = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        if !FileManager.default.fileExists(atPath: logPath) {
            _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        }
        guard let log = FileHandle(forWritingAtPath: logPath) else { throw BenchError("cannot write \(logPath)") }
        _ = try? log.seekToEnd()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["serve", "--log-level", logLevel]
        process.environment = environment
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        try process.run()
        self.process = process
        let deadline = ContinuousClock.now + .seconds(120)
        while ContinuousClock.now < deadline {
            guard process.isRunning else {
                throw BenchError("the relay exited with status \(process.terminationStatus) at start; its log:\n\(logTail())")
            }
            if let (status, _) = try? await http.send(baseURL + "/healthz", timeout: .seconds(2)), status == 200 { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw BenchError("the relay did not answer /healthz within 120 s; its log:\n\(logTail())")
    }

    /// SIGTERM, as a service manager would: the relay shuts down gracefully. SIGKILL after 30 s.
    func stop() async {
        guard let process, process.isRunning else { return }
        process.terminate()
        let deadline = ContinuousClock.now + .seconds(30)
        while process.isRunning, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(50))
        }
        if process.isRunning {
            say("  the relay did not stop within 30 s of SIGTERM; killing it")
            kill(process.processIdentifier, SIGKILL)
            while process.isRunning { try? await Task.sleep(for: .milliseconds(50)) }
        }
    }

    /// SIGKILL, as a power cut or the OOM killer would: no graceful shutdown. `start` brings it back.
    func kill9() async {
        guard let process, process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        while process.isRunning { try? await Task.sleep(for: .milliseconds(20)) }
    }

    /// Throws when the relay is gone: a bench waiting for deliveries should stop at once, not at its timeout.
    func ensureRunning() throws {
        guard let process, !process.isRunning else { return }
        throw BenchError("""
            the relay exited during the run (status \(process.terminationStatus), reason \(process.terminationReason == .uncaughtSignal ? "signal" : "exit")); \
            was it stopped from outside? Its log ends:
            \(logTail())
            """)
    }

    var cpuSeconds: Double { ProcStats.cpuSeconds(pid: pid) ?? .nan }
    var memory: (rss: Int, peak: Int) { ProcStats.memory(pid: pid) ?? (0, 0) }

    /// The end of the relay's log, for error messages.
    func logTail(lines: Int = 20) -> String {
        let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").suffix(lines).joined(separator: "\n")
    }

    /// Size of the SQLite files (database and write-ahead log) in bytes.
    var databaseBytes: Int {
        ["", "-wal", "-shm"].reduce(0) { sum, suffix in
            let size = (try? FileManager.default.attributesOfItem(atPath: databasePath + suffix)[.size] as? NSNumber)?.intValue
            return sum + (size ?? 0)
        }
    }
}

/// Runs one bench with its temporary folder and relay, always stopping the relay and removing the
/// folder (unless asked to keep it), whatever happens in between.
func withRelayRun<T>(
    scenario: String, options: BenchCommonOptions, http: BenchHTTP, telegramAPI: String, extra: [String: String] = [:],
    _ body: (RelayChild) async throws -> T
) async throws -> T {
    let directory = try RelayChild.temporaryDirectory(scenario: scenario)
    var extra = extra
    if let database = options.database {
        extra["TGRELAY_DATABASE"] = database
    }
    let relay = try RelayChild(directory: directory, telegramAPI: telegramAPI, extra: extra, logLevel: options.relayLogLevel, http: http)
    do {
        try await relay.start()
        say("relay: pid \(relay.pid) on \(relay.baseURL), database \(options.database == nil ? relay.databasePath : "PostgreSQL")")
        let result = try await body(relay)
        await relay.stop()
        cleanUp(directory, keep: options.keepTemp)
        return result
    } catch {
        await relay.stop()
        say("relay log kept in \(relay.logPath)")
        throw error
    }
}

/// `withRelayRun` with its own HTTP client, stopping the client and the simulator (when given)
/// however the run ends.
func withBenchRun<T>(
    scenario: String, options: BenchCommonOptions, telegramAPI: String, extra: [String: String] = [:],
    stopping simulator: FakeTelegram? = nil, _ body: (RelayChild, BenchHTTP) async throws -> T
) async throws -> T {
    let http = BenchHTTP.make()
    let result: Result<T, any Error>
    do {
        result = .success(
            try await withRelayRun(scenario: scenario, options: options, http: http, telegramAPI: telegramAPI, extra: extra) {
                try await body($0, http)
            })
    } catch {
        result = .failure(error)
    }
    await simulator?.stop()
    await http.shutdown()
    return try result.get()
}

private func cleanUp(_ directory: URL, keep: Bool) {
    if keep {
        say("kept \(directory.path)")
    } else {
        try? FileManager.default.removeItem(at: directory)
    }
}

/// Prints a line and flushes it: progress must show as it happens even when piped to a file or `tee`.
func say(_ line: String) {
    print(line)
    fflush(nil)
}
