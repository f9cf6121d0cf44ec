import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import NIOCore
import TGRelayCore
import TGRelayStore
import TelegramBotAPI

/// Builds the relay: one Hummingbird application whose `ServiceGroup` runs the HTTP server, the lease
/// keeper (which bots this node works for), on PostgreSQL the lane notifications, the dispatcher, the alert monitor, (when `callbacks.secret` is set) the callback sender, (when
/// `inbound.enabled` for any bot) the update poller and pusher and (unless retention is off) the housekeeper, with
/// graceful shutdown (the server stops first, then in-flight sends finish).
public enum RelayApplication {
    public static func build(
        configuration: RelayConfiguration,
        store: any MessageStore,
        httpClient: HTTPClient,
        logger: Logger,
        inbound: (any ProxyInboundMethods)? = nil,
        onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        let ownership = BotOwnership()
        let dispatcher = Dispatcher(
            configuration: configuration, store: store, client: BotAPIClient(httpClient: httpClient), logger: logger, ownership: ownership)
        let alerts = AlertMonitor(configuration: configuration, store: store, dispatcher: dispatcher, logger: logger)
        // The keeper first: graceful shutdown stops services in reverse order, so it releases the leases
        // after the dispatcher has finished its sends.
        var services: [any Service] = [LeaseKeeper(configuration: configuration, store: store, dispatcher: dispatcher, logger: logger)]
        if let feed = store as? any LaneChangeFeed {
            services.append(LaneFeedListener(feed: feed, dispatcher: dispatcher))
        }
        services += [dispatcher, alerts, QueueSampler(store: store, history: dispatcher.metrics.history)]
        if let callbacks = CallbackSender(configuration: configuration, store: store, http: httpClient, ownership: ownership, logger: logger) {
            services.append(callbacks)
        }
        let inbox = InboxServices(store: store, dispatcher: dispatcher)
        if configuration.inboundEnabled {
            services.append(
                UpdatePoller(
                    configuration: configuration, store: store, client: BotAPIClient(httpClient: httpClient), ingest: inbox.ingest,
                    board: inbox.board, alerts: alerts, ownership: ownership, logger: logger))
            services.append(UpdatePusher(configuration: configuration, store: store, http: httpClient, ownership: ownership, logger: logger))
        }
        if let housekeeper = Housekeeper(configuration: configuration, store: store, logger: logger) {
            services.append(housekeeper)
        }
        return Application(
            router: router(configuration: configuration, store: store, dispatcher: dispatcher, alerts: alerts, inbox: inbox),
            configuration: .init(address: .hostname(configuration.listenHost, port: configuration.listenPort), serverName: "tgrelay"),
            services: services,
            onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? 0) },
            logger: logger
        )
    }

    /// Every route the relay serves; separate from `build` so tests can compare it with `/openapi.json`.
    /// `inbound` answers the proxy's getUpdates / setWebhook / deleteWebhook / getWebhookInfo (see
    /// `ProxyInboundMethods`); without it they pass through to Telegram.
    static func router(
        configuration: RelayConfiguration, store: any MessageStore, dispatcher: Dispatcher, alerts: AlertMonitor,
        inbox: InboxServices? = nil
    ) -> Router<RelayRequestContext> {
        let inbox = inbox ?? InboxServices(store: store, dispatcher: dispatcher)
        let router = Router(context: RelayRequestContext.self)
        router.get("healthz") { _, _ in JSONBody.response(["status": "ok"]) }
        router.get("readyz") { _, _ in
            // Ready only when the store can commit: a store that cannot makes accepts answer 503.
            try await storeCall { try await store.checkWritable(now: Date()) }
            return JSONBody.response(["status": "ready"])
        }
        router.get("openapi.json") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: OpenAPIDocument.json)))
        }
        // Behind the API key like the REST API: a Prometheus scrape job sends it as `authorization: credentials:`.
        MetricsRoutes(store: store, dispatcher: dispatcher, alerts: alerts).register(on: router.group().add(middleware: APIKeyMiddleware(keys: configuration.apiKeys)))
        DashboardRoutes(store: store, dispatcher: dispatcher, access: DashboardAccess(apiKeys: configuration.apiKeys)).register(on: router)
        let v1 = router.group("v1").add(middleware: APIKeyMiddleware(keys: configuration.apiKeys))
        MessageRoutes(store: store, configuration: configuration, dispatcher: dispatcher).register(on: v1)
        AdminRoutes(store: store, configuration: configuration, dispatcher: dispatcher).register(on: v1)
        StatusRoutes(store: store, dispatcher: dispatcher, alerts: alerts, polling: inbox.board).register(on: v1)
        CallbackRoutes(store: store).register(on: v1)
        InboxRoutes(store: store, configuration: configuration).register(on: v1)
        WebhookRoutes(store: store, configuration: configuration, ingest: inbox.ingest).register(on: router)
        // The Bot API proxy authenticates by bot token, not API key (see ProxyRoutes). Its inbound methods are
        // served from the inbox when inbound updates are on, else passed through to Telegram.
        let inbound: (any ProxyInboundMethods)? = configuration.inboundEnabled ? inbox.consumer : nil
        ProxyRoutes(configuration: configuration, store: store, dispatcher: dispatcher, inbound: inbound).register(on: router)
        return router
    }
}

/// The parts of the inbox shared by the poller, the webhook receiver and the consumer routes.
struct InboxServices: Sendable {
    let ingest: InboxIngest
    let consumer: InboxConsumer
    let board = PollStatusBoard()

    init(store: any MessageStore, dispatcher: Dispatcher) {
        let signal = UpdateSignal()
        ingest = InboxIngest(store: store, signal: signal, dispatcher: dispatcher)
        consumer = InboxConsumer(store: store, signal: signal)
    }
}
