import Foundation
import Testing
@testable import TGRelayStore

/// The drivers the conformance suite runs against. Every conformance test takes one as its argument.
enum Driver: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite
    case postgres

    /// PostgreSQL runs when a server is given (`scripts/test.sh` starts one), and always when
    /// `TGRELAY_TEST_REQUIRE_POSTGRES` is set: then a missing server fails the tests instead of leaving
    /// them out.
    static var allCases: [Driver] {
        PostgresHarness.serverURL != nil || PostgresHarness.required ? [.sqlite, .postgres] : [.sqlite]
    }

    var testDescription: String { rawValue }

    func makeHarness() throws -> any StoreHarness {
        switch self {
        case .sqlite: try SQLiteHarness()
        case .postgres: try PostgresHarness()
        }
    }
}

/// One fresh, empty database for one test, which can be opened several times (durability tests).
protocol StoreHarness: Sendable {
    func open(options: StoreConfiguration.Options) async throws -> any MessageStore
    /// Runs SQL outside the store's rules, as someone with access to the database could.
    func tamper(_ sql: String, on store: any MessageStore) async throws
    /// Options under which the database cannot grow any more, or nil if the driver cannot simulate a full disk.
    var fullDiskOptions: StoreConfiguration.Options? { get }
    /// Deletes the database.
    func remove()
}

extension StoreHarness {
    func open() async throws -> any MessageStore {
        try await open(options: StoreConfiguration.Options())
    }
}

struct SQLiteHarness: StoreHarness {
    let directory: URL

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("tgrelay-store-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    var path: String { directory.appendingPathComponent("relay.db").path }

    func open(options: StoreConfiguration.Options) async throws -> any MessageStore {
        try await makeStore(.sqlite(path: path, options: options))
    }

    func tamper(_ sql: String, on store: any MessageStore) async throws {
        try await (store as! SQLiteMessageStore).executeRaw(sql)
    }

    /// `max_page_count` below the current size is raised to the current size: the file can fill its free
    /// pages but never grow, which is what a full disk looks like to SQLite (SQLITE_FULL).
    var fullDiskOptions: StoreConfiguration.Options? { StoreConfiguration.Options(maximumSize: 1) }

    func remove() {
        try? FileManager.default.removeItem(at: directory)
    }
}

/// Runs `body` with a store on a fresh database, closing and deleting it afterwards.
func withStore(
    _ driver: Driver, options: StoreConfiguration.Options = StoreConfiguration.Options(),
    _ body: (any MessageStore, any StoreHarness) async throws -> Void
) async throws {
    let harness = try driver.makeHarness()
    defer { harness.remove() }
    let store = try await harness.open(options: options)
    do {
        try await body(store, harness)
    } catch {
        try? await store.close()
        throw error
    }
    try await store.close()
}
