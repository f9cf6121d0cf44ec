import TGRelayCore

/// Telegram's answer to one proxy call, as raw bytes: returned to the library unchanged.
public struct ProxyAnswer: Sendable, Equatable {
    public var status: Int
    public var body: [UInt8]

    public init(status: Int, body: [UInt8]) {
        self.status = status
        self.body = body
    }
}

/// The hook for the inbound methods of the proxy: `getUpdates` answered from the relay's durable inbox,
/// and `setWebhook` / `deleteWebhook` / `getWebhookInfo` configuring the inbox's push instead of
/// Telegram's webhook. `RelayApplication` plugs in `InboxConsumer` when `inbound.enabled`, and it answers for
/// the bots whose inbound is on; without it (or when it returns nil) these methods pass through to Telegram.
public protocol ProxyInboundMethods: Sendable {
    /// Answers `method` (the spec's spelling, one of `ProxyRoutes.inboundMethods`) for `bot`, or returns nil
    /// to pass the call through. `params` holds the call's parameters from any encoding: values from a
    /// query string or form are JSON strings (`"offset": "42"`), from a JSON body they keep their type.
    func answer(method: String, bot: RelayConfiguration.Bot, params: [String: JSONValue]) async -> ProxyAnswer?
}
