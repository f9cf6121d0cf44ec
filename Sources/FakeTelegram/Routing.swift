import Foundation
import Hummingbird

/// `/bot<token>/<method>`, split up.
struct BotRoute: Sendable {
    var token: String
    var botID: Int64
    var method: String

    /// nil when the path is not a Bot API call at all; `botID` 0 when the token is malformed.
    init?(path: String) {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].isEmpty, parts[1].hasPrefix("bot") else { return nil }
        let raw = String(parts[1].dropFirst(3))
        token = raw.contains("%") ? raw.removingPercentEncoding ?? raw : raw
        method = String(parts[2])
        botID = Self.botID(of: token) ?? 0
    }

    /// The numeric bot id of a syntactically valid token "<digits>:<secret>".
    static func botID(of token: String) -> Int64? {
        let pieces = token.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        guard pieces.count == 2, !pieces[1].isEmpty, let id = Int64(pieces[0]), id > 0,
            pieces[1].allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") })
        else { return nil }
        return id
    }
}

/// What a successful method call produced.
struct Outcome: Sendable {
    var result: FakeJSON
    var description: String? = nil
    /// Index of the recorded message, so a lost answer can be flagged on it.
    var recordIndices: [Int] = []
}

extension FakeTelegram {
    /// Entry point for every HTTP request.
    func handle(_ request: Request, channel: ConnectionHandle) async throws -> Response {
        listener.connections.track(channel)
        let path = request.uri.path
        if path == "/_fake" || path.hasPrefix("/_fake/") {
            return await handleControl(request)
        }
        let now = clock.now()
        if state.withLock({ $0.faults.refusing(now: now) }) {
            // A keep-alive connection that outlived the listener: a dead server would reset it.
            await channel.close()
            throw ConnectionDropped()
        }
        if path.hasPrefix("/file/bot") {
            return try await download(path: path, channel: channel)
        }
        guard let route = BotRoute(path: path) else {
            return finish(BotAPIError.notFound.response)
        }
        let body = try await request.body.collect(upTo: configuration.maxBodySize)
        let parsed: Result<BotRequestParams, BotAPIError>
        do {
            parsed = .success(
                try RequestParamsParser.parse(
                    query: request.uri.query, contentType: request.headers[.contentType],
                    body: Array(buffer: body)))
        } catch {
            parsed = .failure(error)
        }
        return try await handleBotCall(route: route, parsed: parsed, channel: channel)
    }

    private func handleBotCall(
        route: BotRoute, parsed: Result<BotRequestParams, BotAPIError>, channel: ConnectionHandle
    ) async throws -> Response {
        let method = BotAPIMethods.byLowercasedName[route.method.lowercased()]
        let methodName = method?.name ?? route.method
        let chatKey = (try? parsed.get())?.string("chat_id").flatMap(FakeChatRef.init(parameter:))?.key
        let bot: Int64? = route.botID == 0 ? nil : route.botID
        let now = clock.now()

        // Front-end faults come first: they happen before Telegram's application servers see anything.
        let front = state.withLock { s -> FrontFaults in
            s.recorder.stats.totalRequests += 1
            s.recorder.stats.requestsByMethod[methodName, default: 0] += 1
            return s.frontFaults(bot: bot, chat: chatKey, method: methodName, now: now)
        }
        if let response = try await apply(front, channel: channel) { return response }

        guard let bot else { return finish(BotAPIError.notFound.response) }
        if let allowed = configuration.allowedTokens, !allowed.contains(route.token) {
            return finish(BotAPIError.unauthorized.response)
        }
        let revoked = state.withLock { s in
            let hits = s.faults.take([.revokedToken], bot: bot, chat: nil, method: methodName, now: now, rng: &s.rng)
            if !hits.isEmpty { s.recorder.countFault(.revokedToken) }
            return !hits.isEmpty
        }
        if revoked { return finish(BotAPIError.unauthorized.response) }
        guard let method else { return finish(BotAPIError.notFound.response) }

        let outcome: Outcome
        switch parsed {
        case .failure(let error):
            return finish(error.response)
        case .success(let params):
            switch await dispatchResult(method: method.name, returns: method.returns, bot: bot, params: params) {
            case .failure(let error): return finish(error.response)
            case .success(let value): outcome = value
            }
        }

        let lost = state.withLock { s in
            let hits = s.faults.take([.lostAnswer], bot: bot, chat: chatKey, method: methodName, now: clock.now(), rng: &s.rng)
            guard !hits.isEmpty else { return false }
            s.recorder.countFault(.lostAnswer)
            s.recorder.markLostAnswer(outcome.recordIndices)
            return true
        }
        if lost {
            await channel.close()
            throw ConnectionDropped()
        }
        return finish(.ok(outcome.result, description: outcome.description))
    }

    /// Waits out a front-end delay, holds a hung request, or returns the front end's answer; nil lets the
    /// request through.
    func apply(_ front: FrontFaults, channel: ConnectionHandle) async throws -> Response? {
        if front.delay > 0 {
            try? await Task.sleep(for: .seconds(double: front.delay))
        }
        if let hangID = front.hangID {
            await hold(hangID: hangID)
            await channel.close()
            throw ConnectionDropped()
        }
        return front.response.map(finish)
    }

    /// Counts the status of every answer that is actually sent.
    func finish(_ response: Response) -> Response {
        state.withLock { $0.recorder.stats.responsesByStatus[response.status.code, default: 0] += 1 }
        return response
    }

    /// Holds a request while its hang fault lasts (or until the simulator stops).
    private func hold(hangID: Int) async {
        let cap = clock.now() + 600
        while !Task.isCancelled {
            let now = clock.now()
            let holding = state.withLock { !$0.stopped && $0.faults.holds(id: hangID, now: now) }
            if !holding || now > cap { return }
            try? await Task.sleep(for: .milliseconds(10))
        }
    }

    private func dispatchResult(method: String, returns: String, bot: Int64, params: BotRequestParams) async
        -> Result<Outcome, BotAPIError>
    {
        do {
            return .success(try await dispatch(method: method, returns: returns, bot: bot, params: params))
        } catch {
            return .failure(error)
        }
    }

    /// Routes a call to its implementation.
    private func dispatch(method: String, returns: String, bot: Int64, params: BotRequestParams) async throws(BotAPIError)
        -> Outcome
    {
        switch method {
        case "getMe": return Outcome(result: MessageFactory.getMe(bot))
        case "sendMessage": return try sendMessage(bot: bot, params: params)
        case "sendPhoto": return try sendFile(bot: bot, params: params, method: method, field: "photo")
        case "sendDocument": return try sendFile(bot: bot, params: params, method: method, field: "document")
        case "copyMessage", "forwardMessage": return try copyOrForward(bot: bot, params: params, method: method)
        case "editMessageText": return try editMessageText(bot: bot, params: params)
        case "deleteMessage": return try deleteMessage(bot: bot, params: params)
        case "sendChatAction": return try sendChatAction(bot: bot, params: params)
        case "getUpdates": return try await getUpdates(bot: bot, params: params)
        case "setWebhook": return try setWebhook(bot: bot, params: params)
        case "deleteWebhook": return deleteWebhook(bot: bot, params: params)
        case "getWebhookInfo": return getWebhookInfo(bot: bot)
        case "getFile": return try getFile(bot: bot, params: params)
        default: return try generic(method: method, returns: returns, bot: bot, params: params)
        }
    }
}

/// The front-end faults chosen for one request.
struct FrontFaults {
    var delay: Double = 0
    var hangID: Int? = nil
    var response: Response? = nil
}

extension SimState {
    mutating func frontFaults(bot: Int64?, chat: String?, method: String, now: Double) -> FrontFaults {
        var front = FrontFaults()
        for fault in faults.take([.latency], bot: bot, chat: chat, method: method, now: now, rng: &rng) {
            let jitter: Double
            switch fault.distribution {
            case .uniform: jitter = (rng.unit() * 2 - 1) * fault.jitterMs
            case .normal: jitter = rng.normal() * fault.jitterMs
            }
            front.delay += max(0, fault.latencyMs + jitter) / 1000
            recorder.countFault(.latency)
        }
        if let hang = faults.takeHang(bot: bot, chat: chat, method: method, now: now, rng: &rng) {
            front.hangID = hang
            recorder.countFault(.hang)
            return front
        }
        let hits = faults.take([.outage, .internalError, .random5xx], bot: bot, chat: chat, method: method, now: now, rng: &rng)
        guard let fault = hits.first else { return front }
        recorder.countFault(fault.kind)
        switch fault.kind {
        case .outage:
            front.response = Response.gatewayHTML(status: 502)
        case .internalError:
            front.response = BotAPIError.internalRestart.response
        default:
            let status = fault.statuses[Int(rng.next() % UInt64(fault.statuses.count))]
            front.response = status == 500 ? BotAPIError.internalRestart.response : Response.gatewayHTML(status: status)
        }
        return front
    }
}
