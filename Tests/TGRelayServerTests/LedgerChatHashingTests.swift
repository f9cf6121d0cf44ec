import Foundation
import Testing

@testable import TGRelayServer

/// `ledger.hash_chat_ids`: the ledger keeps a keyed hash of chat ids, and the key is required.
struct LedgerChatHashingTests {
    func load(_ file: [String: Any]) async throws -> RelayConfiguration {
        let url = try temporaryDirectory().appendingPathComponent("config.json")
        try JSONSerialization.data(withJSONObject: file).write(to: url)
        return try await RelayConfiguration.load(environment: ["TGRELAY_CONFIG": url.path])
    }

    @Test func theKeyReachesTheStoreConfiguration() async throws {
        let configuration = try await load(["ledger": ["hash_chat_ids": true, "chat_key": "sixteen-bytes-or-more"]])
        #expect(configuration.options.ledgerChatKey == Array("sixteen-bytes-or-more".utf8))
        #expect(try await load([:]).options.ledgerChatKey == nil)
    }

    @Test func hashingWithoutAKeyIsRefusedWithoutShowingIt() async throws {
        do {
            _ = try await load(["ledger": ["hash_chat_ids": true, "chat_key": "short-secret"]])
            Issue.record("a short key was accepted")
        } catch let error as ConfigurationError {
            #expect(error.description.contains("ledger.chat_key"))
            #expect(!error.description.contains("short-secret"))
        }
    }
}
