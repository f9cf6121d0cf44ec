import FakeTelegram
import Foundation
import NIOCore
import Testing

@testable import TGRelayServer

/// Bearer keys on `/v1`, open health and description endpoints, the loopback rule without a key, and no
/// secret ever in the relay's log.
@Suite(.serialized)
struct AuthTests {
    static let key = "k3y-Only-The-Operator-Knows-81f2"

    @Test func keyIsRequiredOnV1AndSecretsNeverReachTheLog() async throws {
        let bed = try await TestBed.rest(environment: ["TGRELAY_API_KEY": Self.key])
        defer { Task { try await bed.shutdown() } }
        let body: [String: Any] = ["chat_id": 601, "text": "authorized"]
        let cases: [(String, [String: String])] = [
            ("missing", [:]),
            ("wrong key", ["Authorization": "Bearer not-the-key"]),
            ("key prefix", ["Authorization": "Bearer " + Self.key.dropLast()]),
            ("key plus suffix", ["Authorization": "Bearer \(Self.key)x"]),
            ("basic scheme", ["Authorization": "Basic \(Data("user:\(Self.key)".utf8).base64EncodedString())"]),
            ("no scheme", ["Authorization": Self.key]),
            ("empty bearer", ["Authorization": "Bearer "]),
        ]
        for (name, headers) in cases {
            let response = try await bed.post("/messages", body, headers: headers)
            #expect(response.status == 401, "\(name)")
            #expect(response.error["code"] as? String == "unauthorized", "\(name)")
            #expect(response.error["field"] as? String == "Authorization", "\(name)")
            #expect(!"\(response.body)".contains(Self.key), "\(name)")
        }
        for path in ["/status", "/dead-letters", "/ledger", "/messages/1", "/chats/inactive"] {
            #expect(try await bed.http.json(.GET, bed.api + path).status == 401, "\(path)")
        }
        #expect(try await bed.http.json(.DELETE, bed.api + "/messages/1").status == 401)
        try await Task.sleep(for: .milliseconds(200))
        #expect(bed.recordedSends.isEmpty, "nothing unauthorized was accepted")

        let authorized = ["Authorization": "Bearer \(Self.key)"]
        let accepted = try await bed.post("/messages", body, headers: authorized)
        #expect(accepted.status == 202, "\(accepted.body)")
        let id = try #require(accepted["id"] as? Int)
        // The scheme is case-insensitive (RFC 9110 §11.1).
        let lower = try await bed.http.json(.GET, bed.api + "/messages/\(id)", headers: ["Authorization": "bearer \(Self.key)"])
        #expect(lower.status == 200)
        #expect(try await bed.http.json(.GET, bed.api + "/status", headers: authorized).status == 200)
        for open in ["/healthz", "/readyz", "/openapi.json"] {
            #expect(try await bed.http.json(.GET, bed.relay.baseURL + open).status == 200, "\(open)")
        }

        // A 401 from Telegram: the bot's token is refused, which the relay logs, without the token.
        let revoked = try bed.telegram.addFault(FakeFault(kind: .revokedToken))
        let refused = try #require(try await bed.post("/messages", ["chat_id": 602, "text": "refused"], headers: authorized)["id"] as? Int)
        #expect(try await eventually(timeout: .seconds(10)) {
            let rows = try await bed.http.json(.GET, bed.api + "/ledger?message_id=\(refused)", headers: authorized)["entries"] as? [[String: Any]]
            return rows?.contains { $0["outcome"] as? String == "unauthorized" } == true
        })
        bed.telegram.removeFault(id: revoked)
        _ = bed.relay.terminate()
        let log = bed.relay.logText
        #expect(!log.isEmpty)
        #expect(!log.contains(Self.key), "the API key is in the log")
        #expect(!log.contains(TestBed.token), "the bot token is in the log")
        #expect(!log.contains("TEST-token-SECRET"), "the token's secret part is in the log")
    }

    @Test func withoutAKeyLoopbackIsServed() async throws {
        let bed = try await TestBed.rest()
        defer { Task { try await bed.shutdown() } }
        let response = try await bed.post("/messages", ["chat_id": 603, "text": "local"])
        #expect(response.status == 202)
        // A header is harmless when no key is configured.
        #expect(try await bed.http.json(.GET, bed.api + "/status", headers: ["Authorization": "Bearer anything"]).status == 200)
    }

    @Test func loopbackRecognitionCoversEveryLoopbackForm() throws {
        let loopback = [
            try SocketAddress(ipAddress: "127.0.0.1", port: 1), try SocketAddress(ipAddress: "127.8.9.10", port: 1),
            try SocketAddress(ipAddress: "::1", port: 1), try SocketAddress(ipAddress: "::ffff:127.0.0.1", port: 1),
            try SocketAddress(unixDomainSocketPath: "/tmp/tgrelay.sock"),
        ]
        for address in loopback { #expect(APIKeyMiddleware.isLoopback(address), "\(address)") }
        let remote = [
            try SocketAddress(ipAddress: "10.0.0.1", port: 1), try SocketAddress(ipAddress: "192.168.1.127", port: 1),
            try SocketAddress(ipAddress: "128.0.0.1", port: 1), try SocketAddress(ipAddress: "::ffff:10.0.0.1", port: 1),
            try SocketAddress(ipAddress: "2001:db8::1", port: 1), try SocketAddress(ipAddress: "::", port: 1),
            try SocketAddress(ipAddress: "0.0.0.0", port: 1), try SocketAddress(ipAddress: "::2", port: 1),
        ]
        for address in remote { #expect(!APIKeyMiddleware.isLoopback(address), "\(address)") }
    }

    @Test func keysCompareByDigestInConstantTime() {
        let middleware = APIKeyMiddleware(keys: ["one", "two"])
        #expect(middleware.keyDigests.count == 2)
        let digest = middleware.keyDigests[0]
        #expect(APIKeyMiddleware.constantTimeEquals(digest, digest))
        #expect(!APIKeyMiddleware.constantTimeEquals(digest, middleware.keyDigests[1]))
    }
}
