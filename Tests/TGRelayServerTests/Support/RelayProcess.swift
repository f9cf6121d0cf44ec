import AsyncHTTPClient
import Foundation
import NIOCore
import NIOPosix
import Testing

/// The real `tgrelay serve` binary as a child process: started, killed with SIGKILL, restarted on the
/// same store file, exactly as an operator's machine would see it.
final class RelayProcess: @unchecked Sendable {
    let port: Int
    let databasePath: String
    let environment: [String: String]
    private(set) var process: Process?
    let logPath: String

    /// `environment` adds to (and overrides) the relay's defaults for this test.
    init(directory: URL, telegramAPI: String, token: String, environment extra: [String: String] = [:]) throws {
        port = try Self.freePort()
        databasePath = directory.appendingPathComponent("relay.sqlite").path
        logPath = directory.appendingPathComponent("relay.log").path
        var environment = [
            "TGRELAY_DATABASE": "sqlite:\(databasePath)",
            "TGRELAY_LISTEN": "127.0.0.1:\(port)",
            "TGRELAY_TELEGRAM_API": telegramAPI,
            "TGRELAY_BOT_TOKEN": token,
            "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin",
        ]
        environment.merge(extra) { $1 }
        self.environment = environment
    }

    static var binary: String {
        if let path = ProcessInfo.processInfo.environment["TGRELAY_BIN"] { return path }
        // `swift test` without the script: the binary sits next to the test bundle.
        let bundle = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        return bundle.appendingPathComponent("tgrelay").path
    }

    var baseURL: String { "http://127.0.0.1:\(port)" }

    /// Starts the relay and waits until it answers `/healthz`.
    func start(http: HTTPClient) async throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = ["serve"]
        process.environment = environment
        if !FileManager.default.fileExists(atPath: logPath) {
            FileManager.default.createFile(atPath: logPath, contents: nil)
        }
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        log.seekToEndOfFile()
        process.standardOutput = log
        process.standardError = log
        try process.run()
        self.process = process
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            if !process.isRunning { throw RelayProcessError.exited(log: logText) }
            if let response = try? await http.execute(HTTPClientRequest(url: baseURL + "/healthz"), timeout: .seconds(1)),
                response.status == .ok
            {
                return
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw RelayProcessError.notReady(log: logText)
    }

    /// SIGKILL: no graceful shutdown, no flushing, as a power cut or OOM kill would do.
    func kill9() {
        guard let process, process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        self.process = nil
    }

    /// SIGTERM and wait: the graceful path. Returns the exit status.
    func terminate() -> Int32 {
        guard let process else { return 0 }
        process.terminate()
        process.waitUntilExit()
        self.process = nil
        return process.terminationStatus
    }

    var logText: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    deinit { kill9() }

    static func freePort() throws -> Int {
        let channel = try ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0).wait()
        defer { try? channel.close().wait() }
        return channel.localAddress!.port!
    }
}

enum RelayProcessError: Error, CustomStringConvertible {
    case exited(log: String)
    case notReady(log: String)

    var description: String {
        switch self {
        case .exited(let log): "tgrelay exited during start-up:\n\(log.suffix(4000))"
        case .notReady(let log): "tgrelay did not become ready:\n\(log.suffix(4000))"
        }
    }
}
