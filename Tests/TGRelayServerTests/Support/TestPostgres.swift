import Foundation

/// The throwaway PostgreSQL server `scripts/test.sh` starts: a fresh database per test, queries through
/// `psql`, and the server's `pg_ctl` for restarts.
struct TestPostgres {
    static var serverURL: String? { ProcessInfo.processInfo.environment["TGRELAY_TEST_POSTGRES_URL"] }
    /// Set by `scripts/test.sh`: a missing server then fails the PostgreSQL tests instead of leaving them out.
    static var isRequired: Bool { ProcessInfo.processInfo.environment["TGRELAY_TEST_REQUIRE_POSTGRES"] == "1" }
    static var isEnabled: Bool { serverURL != nil || isRequired }

    let serverURL: String
    let database: String

    /// Creates an empty database.
    init() throws {
        guard let serverURL = Self.serverURL else {
            throw TestPostgresError("TGRELAY_TEST_POSTGRES_URL is not set: run the tests through scripts/test.sh")
        }
        self.serverURL = serverURL
        database = "tgrelay_e2e_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        _ = try Self.psql(serverURL, "CREATE DATABASE \(database)")
    }

    var url: String {
        var components = URLComponents(string: serverURL)!
        components.path = "/" + database
        return components.string!
    }

    /// The rows of a query, one line each, columns separated by `|`.
    func query(_ sql: String) throws -> [String] {
        try Self.psql(url, sql).split(separator: "\n").map(String.init)
    }

    func drop() {
        _ = try? Self.psql(serverURL, "DROP DATABASE IF EXISTS \(database) WITH (FORCE)")
    }

    /// `pg_ctl stop -m fast`: every connection is cut and the server stays down until `startServer`.
    func stopServer() throws {
        try Self.control("-m fast -w -s stop")
    }

    func startServer() throws {
        try Self.control("-w -s start")
    }

    /// Through `posix_spawn` and `waitpid`, not `Process`: the server that `start` launches outlives the
    /// shell, and `Process` was seen never to report such a shell's exit.
    private static func control(_ arguments: String) throws {
        guard let ctl = ProcessInfo.processInfo.environment["TGRELAY_TEST_POSTGRES_CTL"] else {
            throw TestPostgresError("TGRELAY_TEST_POSTGRES_CTL is not set: run the tests through scripts/test.sh")
        }
        let command = ctl + " " + arguments + " </dev/null >/dev/null 2>&1"
        let words: [String] = ["/bin/sh", "-c", command]
        let argv: [UnsafeMutablePointer<CChar>?] = words.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        guard posix_spawn(&pid, "/bin/sh", nil, nil, argv, environ) == 0 else {
            throw TestPostgresError("could not run pg_ctl")
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        guard status == 0 else { throw TestPostgresError("pg_ctl \(arguments) failed (\(status))") }
    }

    private static func psql(_ url: String, _ sql: String) throws -> String {
        try run(["/usr/bin/env", "psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", sql])
    }

    @discardableResult
    private static func run(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: arguments[0])
        process.arguments = Array(arguments.dropFirst())
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw TestPostgresError("\(arguments.last ?? "") failed (\(process.terminationStatus))")
        }
        return String(decoding: data, as: UTF8.self)
    }
}

struct TestPostgresError: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }
}
