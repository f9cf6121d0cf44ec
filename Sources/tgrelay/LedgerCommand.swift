import ArgumentParser
import Foundation
import TGRelayServer
import TGRelayStore

struct LedgerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ledger",
        abstract: "Inspect the audit ledger of every delivery attempt.",
        subcommands: [Verify.self]
    )

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check the ledger's hash chain and name the first edited, deleted or reordered row.",
            discussion: """
                Reads the store named by TGRELAY_DATABASE (or --database) directly; safe while the relay runs.
                Exits 0 when the chain is intact, 1 when it is broken.

                Example:
                  tgrelay ledger verify --database sqlite:/var/lib/tgrelay/tgrelay.sqlite
                """
        )

        @Option(help: "The store, e.g. sqlite:tgrelay.sqlite (default: TGRELAY_DATABASE or sqlite:tgrelay.sqlite).")
        var database: String?

        func run() async throws {
            var configuration = try await RelayConfiguration.load()
            if let database { configuration.database = database }
            let store = try await makeStore(configuration.storeConfiguration())
            switch try await store.verifyLedger() {
            case .valid(let rows):
                print("ledger intact: \(rows) rows verified")
            case .broken(let seq, let reason):
                print("ledger BROKEN at row \(seq): \(reason)")
                throw ExitCode(1)
            }
        }
    }
}
