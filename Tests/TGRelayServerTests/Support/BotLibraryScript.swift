import Foundation
import Testing

/// Runs Tests/BotLibraries/bot_libraries.py (real bot libraries from PyPI) against a relay, in the virtualenv
/// that scripts/bot-libraries-venv.sh prepares (scripts/test.sh exports its python as TGRELAY_PYTHON).
enum BotLibraryScript {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    static var python: String {
        ProcessInfo.processInfo.environment["TGRELAY_PYTHON"]
            ?? packageRoot.appendingPathComponent(".build/bot-libraries-venv/bin/python").path
    }

    struct Outcome {
        var result: [String: Any]
        var output: String
    }

    /// Runs one scenario to completion (without blocking a thread of the cooperative pool, which the
    /// in-process simulator needs) and returns the `RESULT` line's JSON. `whenReady` runs once the bot is up
    /// (its library initialised), before it sends anything: to start an outage, say.
    static func run(
        _ library: String, _ scenario: String, bed: TestBed, arguments: [String] = [],
        whenReady: (() async throws -> Void)? = nil
    ) async throws -> Outcome {
        guard FileManager.default.isExecutableFile(atPath: python) else {
            Issue.record("no Python with the bot libraries at \(python): run scripts/bot-libraries-venv.sh (scripts/test.sh does)")
            throw ScriptError.failed("python missing")
        }
        let log = bed.directory.appendingPathComponent("\(library)-\(scenario).log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [
            packageRoot.appendingPathComponent("Tests/BotLibraries/bot_libraries.py").path, library, scenario,
            "--relay", bed.relay.baseURL, "--token", TestBed.token,
        ] + arguments + (whenReady == nil ? [] : ["--go-signal"])
        let go = Pipe()
        process.standardInput = go
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        let exit = AsyncStream<Int32>.makeStream()
        process.terminationHandler = { exit.continuation.yield($0.terminationStatus) }
        try process.run()
        if let whenReady {
            let started = try await eventually(timeout: .seconds(60)) {
                !process.isRunning || ((try? String(contentsOf: log, encoding: .utf8)) ?? "").contains("READY\n")
            }
            if started, process.isRunning { try await whenReady() }
            try go.fileHandleForWriting.write(contentsOf: Data("go\n".utf8))
        }
        var status: Int32 = -1
        for await code in exit.stream {
            status = code
            break
        }
        try handle.close()
        let output = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        guard status == 0, let line = output.split(separator: "\n").last(where: { $0.hasPrefix("RESULT ") }),
            let result = try JSONSerialization.jsonObject(with: Data(line.dropFirst("RESULT ".count).utf8)) as? [String: Any]
        else {
            throw ScriptError.failed("\(library) \(scenario) exited \(status):\n\(output.suffix(6000))")
        }
        return Outcome(result: result, output: output)
    }

    enum ScriptError: Error, CustomStringConvertible {
        case failed(String)
        var description: String {
            switch self { case .failed(let text): text }
        }
    }
}
