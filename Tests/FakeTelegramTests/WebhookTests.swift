import Foundation
import Hummingbird
import HummingbirdTesting
import Synchronization
import Testing

@testable import FakeTelegram

/// A webhook receiver that fails the first `failures` pushes with 500.
final class WebhookReceiver: Sendable {
    struct Push: Sendable {
        var secret: String?
        var update: FakeJSON
    }

    let pushes = Mutex<[Push]>([])
    let failures: Int

    init(failures: Int) {
        self.failures = failures
    }

    var received: [Push] { pushes.withLock { $0 } }

    var application: some ApplicationProtocol {
        let router = Router()
        router.post("/hook") { request, _ -> Response in
            let body = try await request.body.collect(upTo: 1 << 20)
            let update = (try? FakeJSON.parse(Data(buffer: body))) ?? .null
            let count = self.pushes.withLock { list in
                list.append(Push(secret: request.headers[.init("X-Telegram-Bot-Api-Secret-Token")!], update: update))
                return list.count
            }
            return Response(status: count <= self.failures ? .internalServerError : .ok)
        }
        return Application(router: router)
    }
}

@Suite struct WebhookTests {
    @Test func pushesInOrderWithSecretAndRetries() async throws {
        let receiver = WebhookReceiver(failures: 1)
        try await receiver.application.test(.live) { client in
            let url = "http://localhost:\(client.port!)/hook"
            try await Harness.run({ $0.webhook.initialBackoff = .milliseconds(50) }) { h throws in
                let set = try await h.call("setWebhook", ["url": .string(url), "secret_token": "s3cr3t-_X"])
                #expect(set.result == true)
                #expect(set.json?["description"] == "Webhook was set")
                var ids: [Int64] = []
                for text in ["one", "two", "three"] {
                    ids.append(try h.fake.injectMessage(bot: 123, chatID: 42, text: text)!)
                }
                try await eventually("three updates pushed") { receiver.received.count >= 4 }
                let pushes = receiver.received
                #expect(pushes.allSatisfy { $0.secret == "s3cr3t-_X" })
                // The first push failed and was retried before anything else was sent.
                #expect(pushes.map { $0.update["update_id"]?.intValue ?? 0 } == [ids[0]] + ids)
                #expect(pushes.last?.update["message"]?["text"] == "three")

                let info = try await h.call("getWebhookInfo")
                #expect(info.result?["url"] == .string(url))
                #expect(info.result?["pending_update_count"] == 0)
                #expect(info.result?["last_error_message"] == "Wrong response from the webhook: 500 Internal Server Error")
                #expect(info.result?["last_error_date"]?.intValue ?? 0 > 0)
                #expect(info.result?["max_connections"] == 40)
                let stats = h.fake.stats()
                #expect(stats.webhookAttempts == 4)
                #expect(stats.webhookFailures == 1)

                let again = try await h.call("setWebhook", ["url": .string(url), "secret_token": "s3cr3t-_X"])
                #expect(again.json?["description"] == "Webhook is already set")
                _ = try await h.call("deleteWebhook")
                #expect(try await h.call("getWebhookInfo").result?["url"] == "")
            }
        }
    }

    @Test func webhookParametersAreValidated() async throws {
        try await Harness.run { h throws in
            let badSecret = try await h.call("setWebhook", ["url": "https://example.org/h", "secret_token": "no spaces!"])
            #expect(badSecret.status == 400)
            #expect(badSecret.description == "Bad Request: secret token contains unallowed characters")
            let tooLong = try await h.call("setWebhook", ["url": "https://example.org/h", "secret_token": .string(String(repeating: "a", count: 257))])
            #expect(tooLong.status == 400)
            let badURL = try await h.call("setWebhook", ["url": "ftp://example.org"])
            #expect(badURL.description == "Bad Request: bad webhook: An HTTPS URL must be provided for webhook")
        }
    }

    @Test func dropPendingUpdates() async throws {
        try await Harness.run { h throws in
            try h.fake.injectMessage(bot: 123, chatID: 1, text: "stale")
            #expect(try await h.call("getWebhookInfo").result?["pending_update_count"] == 1)
            _ = try await h.call("setWebhook", ["url": "http://127.0.0.1:9/unreachable", "drop_pending_updates": true])
            #expect(try await h.call("getWebhookInfo").result?["pending_update_count"] == 0)
        }
    }
}
