import Crypto
import FakeTelegram
import Foundation
import Testing

@testable import TGRelayServer

/// Status callbacks end to end: the real relay POSTs every final state, signed, to a receiver in this
/// process; retries, give-up, `kill -9` and the global URL.
@Suite(.serialized)
struct CallbackTests {
    static let secret = "whsec-test-0123456789"

    static func config(url: String? = nil, giveUpAfter: Double? = nil) -> [String: Any] {
        var callbacks: [String: Any] = ["secret": secret]
        if let url { callbacks["url"] = url }
        if let giveUpAfter { callbacks["give_up_after_seconds"] = giveUpAfter }
        return REST.config(["callbacks": callbacks])
    }

    /// Checks the signature the way a receiver would, with its own HMAC (not the relay's code).
    static func verifies(_ request: CallbackReceiver.Received) -> Bool {
        guard let timestampText = request.headers["x-tgrelay-timestamp"], let timestamp = Int64(timestampText),
            let signature = request.headers["x-tgrelay-signature"], signature.hasPrefix("v1=")
        else { return false }
        guard abs(Date().timeIntervalSince1970 - Double(timestamp)) < 120 else { return false }
        let mac = HMAC<SHA256>.authenticationCode(
            for: Data("\(timestamp).".utf8) + request.body, using: SymmetricKey(data: Data(secret.utf8)))
        return signature == "v1=" + mac.map { String(format: "%02x", $0) }.joined()
    }

    func withReceiver(_ body: (CallbackReceiver, String) async throws -> Void) async throws {
        let receiver = CallbackReceiver()
        let base = try await receiver.start()
        do {
            try await body(receiver, base)
        } catch {
            await receiver.stop()
            throw error
        }
        await receiver.stop()
    }

    @Test func signatureMatchesAKnownVector() {
        // printf '%s' '1700000000.{"id":1,"status":"delivered"}' | openssl dgst -sha256 -hmac 'whsec-test-0123456789'
        let body = Array(#"{"id":1,"status":"delivered"}"#.utf8)
        let expected = "v1=39e7592bb7c49414321516365caafe5f5a8d3df4fae5f98ff8daea4680b135e2"
        #expect(CallbackSignature.sign(secret: Array(Self.secret.utf8), timestamp: 1_700_000_000, body: body) == expected)
        #expect(CallbackSignature.verify(expected, secret: Array(Self.secret.utf8), timestamp: 1_700_000_000, body: body))
        #expect(!CallbackSignature.verify(expected, secret: Array(Self.secret.utf8), timestamp: 1_700_000_001, body: body))
        #expect(!CallbackSignature.verify("v1=00", secret: Array(Self.secret.utf8), timestamp: 1_700_000_000, body: body))
    }

    @Test func everyFinalStateIsPostedOnceSigned() async throws {
        try await withReceiver { receiver, base in
            let bed = try await TestBed.rest(config: Self.config())
            defer { Task { try await bed.shutdown() } }
            let hook = ["callback_url": base + "/hook"]
            var blocked = FakeFault(kind: .blocked)
            blocked.chat = "602"
            try bed.telegram.addFault(blocked)
            var slow = FakeFault(kind: .tooManyRequests)
            slow.chat = "604"
            slow.count = 1
            slow.retryAfter = 60
            try bed.telegram.addFault(slow)

            let delivered = try await bed.send(chat: 601, text: "ok", extra: hook)
            let failed = try await bed.send(chat: 602, text: "blocked", extra: hook)
            var late = hook as [String: Any]
            late["deliver_by"] = Date().timeIntervalSince1970 - 10
            let expired = try await bed.send(chat: 603, text: "too late", extra: late)
            let cancelled = try await bed.send(chat: 604, text: "never mind", extra: hook)
            #expect(try await eventually(timeout: .seconds(10), every: .milliseconds(20)) {
                try await bed.message(cancelled)["status"] as? String == "waiting"
            })
            #expect(try await bed.http.json(.DELETE, bed.api + "/messages/\(cancelled)").status == 200)
            let final = try await bed.waitFinal([delivered, failed, expired, cancelled], timeout: .seconds(20))
            let expected = [delivered: "delivered", failed: "failed", expired: "expired", cancelled: "cancelled"]
            #expect(final.mapValues { $0["status"] as? String } == expected)

            #expect(try await eventually(timeout: .seconds(10)) { receiver.accepted.count >= 4 })
            try await Task.sleep(for: .seconds(1))
            let received = receiver.received
            #expect(received.count == 4, "exactly one POST per final state")
            for request in received {
                #expect(Self.verifies(request), "signature of \(request.json)")
                #expect(request.path == "hook")
                #expect(request.headers["content-type"] == "application/json")
                let json = request.json
                let id = try #require(json["id"] as? Int)
                let status = try #require(expected[id])
                #expect(json["status"] as? String == status)
                #expect(request.headers["x-tgrelay-event"] == "message.\(status)")
                #expect(json["bot"] as? String == "default")
                #expect(json["chat_id"] as? String == final[id]?["chat_id"] as? String)
                #expect(json["attempts"] as? Int == final[id]?["attempts"] as? Int)
                #expect(json["ambiguous"] as? Bool == false)
                #expect(json["callback_id"] is Int)
                #expect((json["at"] as? String).flatMap(AcceptRequest.iso8601) != nil)
                #expect(json.keys.contains("message_id") && json.keys.contains("last_error"))
            }
            let byID = Dictionary(uniqueKeysWithValues: received.map { ($0.json["id"] as? Int ?? 0, $0.json) })
            #expect(byID[delivered]?["message_id"] as? Int == final[delivered]?["message_id"] as? Int)
            #expect(byID[delivered]?["last_error"] is NSNull)
            #expect(byID[failed]?["last_error"] as? String == "Forbidden: bot was blocked by the user")
            #expect(byID[expired]?["last_error"] as? String == final[expired]?["last_error"] as? String)

            let listed = try await bed.http.json(.GET, bed.api + "/callbacks?status=delivered")["callbacks"] as? [[String: Any]]
            #expect(Set(listed?.compactMap { $0["message_id"] as? Int } ?? []) == Set(expected.keys))
            #expect(listed?.allSatisfy { $0["tries"] as? Int == 1 } == true)
            #expect(bed.relay.logText.contains(Self.secret) == false)
        }
    }

    @Test func aFailingReceiverGetsRetriesWithBackoff() async throws {
        try await withReceiver { receiver, base in
            let bed = try await TestBed.rest(config: Self.config())
            defer { Task { try await bed.shutdown() } }
            receiver.failNext(3)
            let id = try await bed.send(chat: 611, text: "retry me", extra: ["callback_url": base + "/hook"])
            #expect(try await eventually(timeout: .seconds(30)) { receiver.accepted.count == 1 })
            let received = receiver.received
            #expect(received.map(\.status) == [503, 503, 503, 200])
            // Backoff 1 s, 2 s, 4 s with ±20 % jitter (and up to one poll interval of lateness).
            let gaps = zip(received.dropFirst(), received).map { $0.at.timeIntervalSince($1.at) }
            for (gap, nominal) in zip(gaps, [1.0, 2, 4]) {
                #expect(gap >= nominal * 0.8 - 0.05 && gap <= nominal * 1.2 + 0.5, "gap \(gap) for \(nominal)")
            }
            #expect(received.allSatisfy(Self.verifies))
            #expect(Set(received.map(\.body)).count == 1, "every try sends the same body")
            #expect(received.first?.json["id"] as? Int == id)
            // The receiver has answered 200; the relay records that a moment later.
            var callbacks: [[String: Any]]?
            #expect(try await eventually(timeout: .seconds(5)) {
                callbacks = try await bed.http.json(.GET, bed.api + "/callbacks?message_id=\(id)")["callbacks"] as? [[String: Any]]
                return callbacks?.first?["status"] as? String == "delivered"
            })
            #expect(callbacks?.count == 1)
            #expect(callbacks?.first?["tries"] as? Int == 4)
        }
    }

    @Test func aCallbackNeverAcknowledgedIsMarkedFailedAfterTheHorizon() async throws {
        try await withReceiver { receiver, base in
            let bed = try await TestBed.rest(config: Self.config(giveUpAfter: 2))
            defer { Task { try await bed.shutdown() } }
            receiver.failAlways(true)
            let id = try await bed.send(chat: 621, text: "nobody listens", extra: ["callback_url": base + "/hook"])
            var failed: [[String: Any]] = []
            #expect(try await eventually(timeout: .seconds(15)) {
                failed = try await bed.http.json(.GET, bed.api + "/callbacks?status=failed")["callbacks"] as? [[String: Any]] ?? []
                return !failed.isEmpty
            })
            #expect(failed.first?["message_id"] as? Int == id)
            #expect(failed.first?["last_error"] as? String == "HTTP 503")
            #expect((failed.first?["tries"] as? Int ?? 0) >= 2)
            let tries = receiver.received.count
            try await Task.sleep(for: .seconds(2))
            #expect(receiver.received.count == tries, "no tries after giving up")
        }
    }

    @Test func anOwedCallbackSurvivesKill9() async throws {
        try await withReceiver { receiver, base in
            let bed = try await TestBed.rest(config: Self.config())
            defer { Task { try await bed.shutdown() } }
            receiver.failAlways(true)
            let id = try await bed.send(chat: 631, text: "before the crash", extra: ["callback_url": base + "/hook"])
            #expect(try await bed.waitFinal([id])[id]?["status"] as? String == "delivered")
            #expect(try await eventually(timeout: .seconds(10)) { !receiver.received.isEmpty })
            bed.relay.kill9()
            receiver.failAlways(false)
            try await bed.relay.start(http: bed.http)
            #expect(try await eventually(timeout: .seconds(20)) { receiver.accepted.count == 1 })
            let request = try #require(receiver.accepted.first)
            #expect(Self.verifies(request))
            #expect(request.json["id"] as? Int == id)
            #expect(request.json["status"] as? String == "delivered")
        }
    }

    @Test func theGlobalURLReceivesMessagesWithoutTheirOwn() async throws {
        try await withReceiver { receiver, base in
            let bed = try await TestBed.rest(config: Self.config(url: base + "/global"))
            defer { Task { try await bed.shutdown() } }
            let global = try await bed.send(chat: 641, text: "to the global hook")
            let own = try await bed.send(chat: 642, text: "to my hook", extra: ["callback_url": base + "/own"])
            #expect(try await eventually(timeout: .seconds(15)) { receiver.accepted.count == 2 })
            let byPath = Dictionary(grouping: receiver.received, by: \.path)
            #expect(byPath["global"]?.map { $0.json["id"] as? Int } == [global])
            #expect(byPath["own"]?.map { $0.json["id"] as? Int } == [own])
            #expect(receiver.received.allSatisfy(Self.verifies))
        }
    }

    @Test func withoutASecretACallbackURLIsRefused() async throws {
        let bed = try await TestBed.rest()
        defer { Task { try await bed.shutdown() } }
        let response = try await bed.post("/messages", ["chat_id": 1, "text": "x", "callback_url": "http://127.0.0.1:9/hook"])
        #expect(response.status == 400)
        #expect(response.error["code"] as? String == "callbacks_not_configured")
        #expect(response.error["field"] as? String == "callback_url")
    }

    @Test func configurationNamesTheKeyAndNeverTheSecret() async throws {
        func failure(_ environment: [String: String]) async -> String? {
            do {
                _ = try await RelayConfiguration.load(environment: environment)
                return nil
            } catch {
                return "\(error)"
            }
        }
        let noSecret = await failure(["TGRELAY_CALLBACKS_URL": "http://127.0.0.1:9/hook"])
        #expect(noSecret?.contains("callbacks.secret (TGRELAY_CALLBACKS_SECRET)") == true)
        let short = await failure(["TGRELAY_CALLBACKS_SECRET": "short-secret"])
        #expect(short?.contains("callbacks.secret") == true)
        #expect(short?.contains("short-secret") == false)
        let badURL = await failure(["TGRELAY_CALLBACKS_SECRET": Self.secret, "TGRELAY_CALLBACKS_URL": "ftp://x/y"])
        #expect(badURL?.contains("callbacks.url (TGRELAY_CALLBACKS_URL)") == true)
        let loaded = try await RelayConfiguration.load(environment: [
            "TGRELAY_CALLBACKS_SECRET": Self.secret, "TGRELAY_CALLBACKS_URL": "http://127.0.0.1:9/hook",
            "TGRELAY_CALLBACKS_GIVE_UP_AFTER_SECONDS": "3600",
        ])
        #expect(loaded.callbacks.url == "http://127.0.0.1:9/hook")
        #expect(loaded.callbacks.secret == Array(Self.secret.utf8))
        #expect(loaded.callbacks.policy.horizon == 3600)
        #expect(try loaded.storeConfiguration().options.defaultCallbackURL == "http://127.0.0.1:9/hook")
    }
}
