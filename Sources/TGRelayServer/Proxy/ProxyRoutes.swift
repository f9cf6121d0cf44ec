import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1
import TGRelayCore
import TGRelayStore
import TelegramBotAPI

/// The drop-in Bot API proxy: `/bot<token>/<method>` answers like Telegram, so a bot switches by changing
/// its library's base URL. Send methods go through the durable outbox (`ProxySend`), the inbound methods
/// to the `ProxyInboundMethods` hook when one is plugged in, everything else passes through
/// (`ProxyPassthrough`). Only configured tokens are served; tokens never reach a log.
struct ProxyRoutes {
    /// Served from the relay's inbox when an inbound hook is plugged in and the bot's inbound is on.
    static let inboundMethods: Set<String> = ["getUpdates", "setWebhook", "deleteWebhook", "getWebhookInfo"]
    /// Uploads are limited to 50 MB (`BotAPICall.uploadLimit`); this leaves room for the form around them.
    static let bodyLimit = 52 << 20

    let configuration: RelayConfiguration
    let store: any MessageStore
    let dispatcher: Dispatcher
    let client: BotAPIClient
    let inbound: (any ProxyInboundMethods)?
    let tokens: BotTokens

    init(configuration: RelayConfiguration, store: any MessageStore, dispatcher: Dispatcher, inbound: (any ProxyInboundMethods)?) {
        self.configuration = configuration
        self.store = store
        self.dispatcher = dispatcher
        self.client = dispatcher.client
        self.inbound = inbound
        self.tokens = BotTokens(configuration.bots)
    }

    func register(on router: Router<RelayRequestContext>) {
        router.get("bot{token}/:method") { request, context in await call(request, context) }
        router.post("bot{token}/:method") { request, context in await call(request, context) }
        router.get("file/bot{token}/**") { _, context in await downloadFile(context) }
    }

    private var passthrough: ProxyPassthrough {
        ProxyPassthrough(client: client, endpoints: configuration.telegramEndpoints, budget: configuration.proxy.wait, requestTimeout: configuration.options.requestTimeout)
    }

    private func call(_ request: Request, _ context: RelayRequestContext) async -> Response {
        guard let token = context.parameters.get("token"), let bot = tokens.bot(presenting: token) else {
            return BotAPIError.unauthorized.response
        }
        guard let name = context.parameters.get("method"), let method = BotAPIMethods.canonicalName(name) else {
            return BotAPIError.notFound.response
        }
        let body: ByteBuffer
        let decoded: BotAPICall
        do throws(BotAPIError) {
            body = try await Self.collect(request)
            decoded = try BotAPICall.decode(query: request.uri.query, contentType: request.headers[.contentType], body: body)
        } catch {
            return error.response
        }
        if Self.inboundMethods.contains(method), bot.inbound.enabled, let inbound, let answer = await inbound.answer(method: method, bot: bot, params: decoded.params) {
            return Self.response(answer, contentType: "application/json")
        }
        if BotAPIMethods.isSendMethod(method) {
            let send = ProxySend(configuration: configuration, store: store, dispatcher: dispatcher, bot: bot)
            if let response = await send.handle(method: method, call: decoded, headers: request.headers) { return response }
        }
        let answer = await passthrough.forward(
            token: bot.token, method: name, httpMethod: request.method == .get ? .GET : .POST,
            contentType: request.headers[.contentType], body: body.readableBytes > 0 ? body : nil,
            query: request.uri.query, params: decoded.params)
        return Self.response(answer, contentType: "application/json")
    }

    private func downloadFile(_ context: RelayRequestContext) async -> Response {
        guard let token = context.parameters.get("token"), let bot = tokens.bot(presenting: token) else {
            return BotAPIError.unauthorized.response
        }
        let path = context.parameters.getCatchAll().joined(separator: "/")
        let answer = await passthrough.download(token: bot.token, path: path)
        return Self.response(answer, contentType: answer.status == 200 ? "application/octet-stream" : "application/json")
    }

    /// The whole body up to `bodyLimit`; beyond it Telegram's 413.
    private static func collect(_ request: Request) async throws(BotAPIError) -> ByteBuffer {
        let tooLarge = BotAPIError(413, "Request Entity Too Large")
        if let length = request.headers[.contentLength].flatMap(Int.init), length > bodyLimit { throw tooLarge }
        do {
            return try await request.body.collect(upTo: bodyLimit)
        } catch {
            throw tooLarge
        }
    }

    static func response(_ answer: ProxyAnswer, contentType: String) -> Response {
        Response(status: .init(code: answer.status), headers: [.contentType: contentType], body: .init(byteBuffer: ByteBuffer(bytes: answer.body)))
    }
}
