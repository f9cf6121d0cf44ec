import FakeTelegram
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A sender under test in `bench peers`: given the whole workload at once, it delivers it to the
/// simulator by itself; the bench only watches the simulator, kills the sender and restarts it.
protocol PeerSender: AnyObject {
    /// Hands over the workload; returns once the sender has it (queued or in memory).
    func start(_ workload: PeerWorkload) async throws
    /// `kill -9`, then starts again the way this kind of sender comes back after a crash.
    func crashAndRestart() async throws
    /// True when nothing more can arrive (the peer's process ended); the relay never ends by itself.
    var hasEnded: Bool { get }
    /// Throws when the sender died unexpectedly.
    func ensureAlive() throws
    /// CPU seconds and peak RSS of the current process, read before it stops; then stops it.
    func finish() async -> (cpuSeconds: Double, peakRSS: Int)
}

/// tgrelay: the relay as a child process; the workload is queued through its batch endpoint.
final class RelaySender: PeerSender {
    let relay: RelayChild
    let http: BenchHTTP

    init(relay: RelayChild, http: BenchHTTP) {
        self.relay = relay
        self.http = http
    }

    func start(_ workload: PeerWorkload) async throws {
        let chats = workload.chats
        // One batch at a time: per-chat order is accept order, and two batches in flight at once
        // may be committed in either order, which would count as order violations.
        try await http.loadQueue(relay: relay.baseURL, total: workload.total, concurrency: 1, label: PeerWorkload.label) { chats[$0] }
    }

    /// The relay restarts on the same SQLite file and resumes from what it had committed.
    func crashAndRestart() async throws {
        await relay.kill9()
        try await relay.start()
    }

    var hasEnded: Bool { false }

    func ensureAlive() throws { try relay.ensureRunning() }

    func finish() async -> (cpuSeconds: Double, peakRSS: Int) {
        let usage = (relay.cpuSeconds, relay.memory.peak)
        await relay.stop()
        return usage
    }
}

/// python-telegram-bot 22.x with AIORateLimiter, run by scripts/bench/ptb_peer.py from the bench's
/// virtual environment. A restart after a crash starts the script without a workload: what was
/// queued lived in the killed process's memory.
final class PTBSender: PeerSender {
    let python: String
    let script: String
    let botAPI: String
    let directory: URL
    let maxRetries: Int
    private var process: Process?
    private var launches = 0

    init(python: String, script: String, botAPI: String, directory: URL, maxRetries: Int) {
        self.python = python
        self.script = script
        self.botAPI = botAPI
        self.directory = directory
        self.maxRetries = maxRetries
    }

    private var outputPath: String { directory.appendingPathComponent("ptb-\(launches).out").path }
    var logPath: String { directory.appendingPathComponent("ptb.log").path }

    func start(_ workload: PeerWorkload) async throws {
        let file = directory.appendingPathComponent("workload.jsonl")
        try workload.jsonLines().write(to: file, atomically: true, encoding: .utf8)
        try await launch(workload: file.path)
    }

    func crashAndRestart() async throws {
        if let process, process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            while process.isRunning { try await Task.sleep(for: .milliseconds(20)) }
        }
        try await launch(workload: nil)
    }

    /// Starts the script and waits until PTB has initialized the bot (its getMe answered).
    private func launch(workload: String?) async throws {
        launches += 1
        for path in [outputPath, logPath] where !FileManager.default.fileExists(atPath: path) {
            _ = FileManager.default.createFile(atPath: path, contents: nil)
        }
        guard let output = FileHandle(forWritingAtPath: outputPath), let log = FileHandle(forWritingAtPath: logPath) else {
            throw BenchError("cannot write in \(directory.path)")
        }
        _ = try? log.seekToEnd()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments =
            [script, "--base-url", botAPI + "/bot", "--token", "100200301:peer-token", "--max-retries", "\(maxRetries)"]
            + (workload.map { ["--workload", $0] } ?? [])
        process.standardOutput = output
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        try process.run()
        self.process = process
        let deadline = ContinuousClock.now + .seconds(60)
        while !lines().contains(where: { $0["event"] as? String == "ready" }) {
            guard process.isRunning || !lines().isEmpty else {
                throw BenchError("the peer script exited with status \(process.terminationStatus) at start; see \(logPath)")
            }
            guard ContinuousClock.now < deadline else { throw BenchError("the peer script was not ready within 60 s; see \(logPath)") }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// The JSON lines the current process printed so far.
    private func lines() -> [[String: Any]] {
        let text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
    }

    var hasEnded: Bool { process.map { !$0.isRunning } ?? true }

    func ensureAlive() throws {}

    /// Sends that raised in the first run, by exception type (the script's own count).
    var failures: [String: Int] {
        let text = (try? String(contentsOfFile: directory.appendingPathComponent("ptb-1.out").path, encoding: .utf8)) ?? ""
        let done = text.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            .first { $0["event"] as? String == "done" }
        return (done?["errors"] as? [String: Any])?.compactMapValues { ($0 as? NSNumber)?.intValue } ?? [:]
    }

    /// The script reports its own CPU time and peak RSS when it ends (getrusage); a script that has
    /// not ended by now is measured from /proc and then killed.
    func finish() async -> (cpuSeconds: Double, peakRSS: Int) {
        if let process, process.isRunning {
            let usage = (ProcStats.cpuSeconds(pid: process.processIdentifier) ?? .nan, ProcStats.memory(pid: process.processIdentifier)?.peak ?? 0)
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            return usage
        }
        guard let done = lines().first(where: { $0["event"] as? String == "done" }) else { return (.nan, 0) }
        return ((done["cpu_seconds"] as? NSNumber)?.doubleValue ?? .nan, (done["max_rss_bytes"] as? NSNumber)?.intValue ?? 0)
    }
}

/// The peer's virtual environment: created and filled from PyPI on first use, reused afterwards.
enum PeerEnvironment {
    static let requirement = "python-telegram-bot[rate-limiter]==22.*"

    /// Returns the environment's python and the python-telegram-bot version installed in it.
    static func prepare(at path: String) throws -> (python: String, version: String) {
        let python = path + "/bin/python"
        if let version = installedVersion(python) { return (python, version) }
        guard let system = ProcStats.which("python3") else {
            throw BenchError("python3 is not installed; the peer runs on it (apt-get install -y python3 python3-venv)")
        }
        say("creating the peer's virtual environment in \(path)")
        if try ProcStats.run(system, ["-m", "venv", path]).status != 0 {
            // Debian and Ubuntu ship venv separately.
            guard getuid() == 0, let apt = ProcStats.which("apt-get"),
                try ProcStats.run(apt, ["install", "-y", "python3-venv"]).status == 0,
                try ProcStats.run(system, ["-m", "venv", path]).status == 0
            else { throw BenchError("`python3 -m venv \(path)` failed; install python3-venv (apt-get install -y python3-venv) and run again") }
        }
        say("installing \(requirement) from PyPI")
        let (status, output) = try ProcStats.run(path + "/bin/pip", ["install", "--quiet", "--disable-pip-version-check", requirement], errors: .standardError)
        guard status == 0, let version = installedVersion(python) else {
            throw BenchError("pip install \"\(requirement)\" failed (status \(status)): \(output.suffix(500))")
        }
        return (python, version)
    }

    private static func installedVersion(_ python: String) -> String? {
        guard FileManager.default.isExecutableFile(atPath: python),
            let (status, output) = try? ProcStats.run(python, ["-c", "import telegram, aiolimiter; print(telegram.__version__)"]),
            status == 0
        else { return nil }
        return output.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
