import Foundation
@testable import TGRelayStore

/// A fresh database on the test server for each test, dropped afterwards. Administration and tampering go
/// through `psql`, as someone with access to the database would.
struct PostgresHarness: StoreHarness {
    static var serverURL: String? { ProcessInfo.processInfo.environment["TGRELAY_TEST_POSTGRES_URL"] }
    static var required: Bool { ProcessInfo.processInfo.environment["TGRELAY_TEST_REQUIRE_POSTGRES"] == "1" }

    let serverURL: String
    let database: String

    init() throws {
        guard let serverURL = Self.serverURL else {
            throw HarnessError("TGRELAY_TEST_POSTGRES_URL is not set: run the tests through scripts/test.sh")
        }
        self.serverURL = serverURL
        database = "tgrelay_test_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        try Self.psql(serverURL, "CREATE DATABASE \(database)")
    }

    /// The server URL with this test's database in its path.
    var url: String {
        var components = URLComponents(string: serverURL)!
        components.path = "/" + database
        return components.string!
    }

    func open(options: StoreConfiguration.Options) async throws -> any MessageStore {
        try await makeStore(.postgres(url: url, options: options))
    }

    func tamper(_ sql: String, on store: any MessageStore) async throws {
        try Self.psql(url, sql)
    }

    /// PostgreSQL has no per-database size limit to simulate a full disk with.
    var fullDiskOptions: StoreConfiguration.Options? { nil }

    func remove() {
        try? Self.psql(serverURL, "DROP DATABASE IF EXISTS \(database) WITH (FORCE)")
    }

    static func psql(_ url: String, _ sql: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", sql]
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw HarnessError("psql failed (\(process.terminationStatus)) running: \(sql)")
        }
    }
}

struct HarnessError: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }
}
