import ArgumentParser
import TGRelayServer
import TGRelayStore

struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Create or upgrade the store's schema, then exit.",
        discussion: """
            `tgrelay serve` migrates on start as well; run this first when several nodes share a PostgreSQL
            database and you want the upgrade done before any of them starts. Migrations run in one
            transaction under an advisory lock, so running it while nodes start is safe.

            Example:
              TGRELAY_DATABASE=postgres://tgrelay:secret@db.internal/tgrelay tgrelay migrate
            """
    )

    @Option(help: "The store, e.g. postgres://user:password@host/db (default: TGRELAY_DATABASE or sqlite:tgrelay.sqlite).")
    var database: String?

    func run() async throws {
        var configuration = try await RelayConfiguration.load()
        if let database { configuration.database = database }
        let storeConfiguration = try configuration.storeConfiguration()
        let store = try await makeStore(storeConfiguration)
        try await store.close()
        print("schema up to date: \(storeConfiguration.location)")
    }
}
