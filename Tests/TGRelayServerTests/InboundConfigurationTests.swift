import Foundation
import Testing

@testable import TGRelayServer

/// `inbound.*`: off by default, every key from the file or the environment, out-of-range values named.
struct InboundConfigurationTests {
    let loading = ConfigurationLoadingTests()

    @Test func offByDefaultWithTelegramsLimits() async throws {
        let inbound = try await loading.load([:]).inbound
        #expect(!inbound.enabled)
        #expect(inbound.pollTimeout == 50)
        #expect(inbound.allowedUpdates == nil)
        #expect(inbound.retention == 7 * 86_400)
        #expect(inbound.pushPolicy.horizon == 86_400)
    }

    @Test func everyKeyIsRead() async throws {
        let file: [String: Any] = [
            "inbound": [
                "enabled": true, "poll_timeout_seconds": 20, "allowed_updates": ["message", "my_chat_member"],
                "poll_max_backoff_seconds": 5, "retention_days": 2, "push_give_up_after_seconds": 60, "push_timeout_seconds": 3,
            ]
        ]
        let inbound = try await loading.load([:], file: file).inbound
        #expect(inbound.enabled)
        #expect(inbound.pollTimeout == 20)
        #expect(inbound.allowedUpdates == ["message", "my_chat_member"])
        #expect(inbound.pollBackoff.maximumDelay == 5)
        #expect(inbound.retention == 2 * 86_400)
        #expect(inbound.pushPolicy.horizon == 60)
        #expect(inbound.pushTimeout == .seconds(3))
        let fromEnvironment = try await loading.load(["TGRELAY_INBOUND_ENABLED": "true", "TGRELAY_INBOUND_ALLOWED_UPDATES": "message,callback_query"])
        #expect(fromEnvironment.inbound.enabled)
        #expect(fromEnvironment.inbound.allowedUpdates == ["message", "callback_query"])
    }

    /// `inbound.*` are every bot's defaults; `bot.<name>.inbound.*` (`bot.inbound.*` for the default bot)
    /// override them for that bot alone.
    @Test func eachBotMayOverrideTheDefaults() async throws {
        let file: [String: Any] = [
            "inbound": ["enabled": true, "allowed_updates": ["message"], "push_give_up_after_seconds": 60],
            "bots": ["ops", "shop"],
            "bot": [
                "inbound": ["poll_timeout_seconds": 10],
                "ops": ["token": "1:ops", "inbound": ["enabled": false]],
                "shop": ["token": "2:shop", "inbound": ["allowed_updates": ["message", "chat_member"], "push_give_up_after_seconds": 5]],
            ],
        ]
        let configuration = try await loading.load(["TGRELAY_BOT_TOKEN": "3:default"], file: file)
        let bots = Dictionary(uniqueKeysWithValues: configuration.bots.map { ($0.name, $0.inbound) })
        #expect(bots["default"]?.enabled == true)
        #expect(bots["default"]?.pollTimeout == 10)
        #expect(bots["default"]?.allowedUpdates == ["message"])
        #expect(bots["ops"]?.enabled == false)
        #expect(bots["ops"]?.pollTimeout == 50)
        #expect(bots["shop"]?.allowedUpdates == ["message", "chat_member"])
        #expect(bots["shop"]?.pushPolicy.horizon == 5)
        #expect(bots["ops"]?.pushPolicy.horizon == 60)
        #expect(configuration.inboundEnabled)
        let error = await loading.failure(["TGRELAY_BOT_TOKEN": "3:default"], file: ["bot": ["inbound": ["poll_timeout_seconds": 99]]])
        #expect(error?.contains("bot.inbound.poll_timeout_seconds") == true)
    }

    @Test func aLongPollBeyondTelegramsCapIsRefused() async {
        let error = await loading.failure([:], file: ["inbound": ["poll_timeout_seconds": 60]])
        #expect(error?.contains("inbound.poll_timeout_seconds") == true)
    }
}
