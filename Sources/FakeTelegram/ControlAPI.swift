import Foundation
import Hummingbird

/// Swift accessors for tests, mirrored by the HTTP control API under `/_fake/` (JSON in, JSON out;
/// never subject to faults or limits):
///
///     GET    /_fake/stats                  FakeStats.json
///     GET    /_fake/messages?bot=&chat=    {"count": N, "messages": [FakeRecordedMessage.json]}
///     POST   /_fake/reset                  {"ok": true}
///     GET    /_fake/faults                 {"faults": [fault + "id", "remaining", "scenario"]}
///     POST   /_fake/faults                 a fault object or {"faults": [...]} → {"ok": true, "ids": [..]}
///     PUT    /_fake/faults                 same, replacing all runtime faults
///     DELETE /_fake/faults[?all=true]      runtime faults (all=true: scenario faults too)
///     DELETE /_fake/faults/<id>
///     POST   /_fake/updates                {"bot": 123 | "token": "123:abc", "update": {..} | "updates": [..]}
///                                          or {"bot": 123, "chat_id": 42, "text": "hi"} → {"ok": true, "update_ids": [..]}
///     GET    /_fake/updates?bot=123        {"updates": [pending updates]}
///     GET    /_fake/clock                  {"now": seconds since start, "unix_time": N}
///     POST   /_fake/clock                  {"advance": seconds} → {"now": ..}
///
/// Errors answer 4xx with {"ok": false, "error": "..."}.
extension FakeTelegram {
    public func stats() -> FakeStats {
        state.withLock { $0.recorder.stats }
    }

    /// Delivered messages in delivery order, optionally for one bot and/or chat
    /// (chat as sent: "42", "-100123" or "@channel").
    public func messages(bot: Int64? = nil, chat: String? = nil) -> [FakeRecordedMessage] {
        let chatID = chat.flatMap(FakeChatRef.init(parameter:))?.resolvedID
        return state.withLock { s in
            s.recorder.messages.filter { m in
                (bot.map { m.bot == $0 } ?? true) && (chatID.map { m.chatID == $0 } ?? true)
            }
        }
    }

    /// Adds a fault; `start`/`duration` count from now. Returns its id.
    @discardableResult
    public func addFault(_ fault: FakeFault) throws -> Int {
        try fault.validate()
        let now = clock.now()
        return state.withLock { $0.faults.add(fault, base: now, fromScenario: false) }
    }

    /// Replaces all faults added at run time (scenario faults stay).
    @discardableResult
    public func setFaults(_ faults: [FakeFault]) throws -> [Int] {
        for fault in faults { try fault.validate() }
        let now = clock.now()
        return state.withLock { s in
            s.faults.removeRuntime()
            return faults.map { s.faults.add($0, base: now, fromScenario: false) }
        }
    }

    @discardableResult
    public func removeFault(id: Int) -> Bool {
        state.withLock { $0.faults.remove(id: id) }
    }

    /// Removes all runtime faults; with `includingScenario` the scenario's too.
    public func clearFaults(includingScenario: Bool = false) {
        state.withLock { s in
            if includingScenario { s.faults = FaultBook() } else { s.faults.removeRuntime() }
        }
    }

    /// Active and scheduled faults, as JSON (with `id` and `remaining`).
    public func faults() -> [FakeJSON] {
        state.withLock { $0.faults.entries.map(\.json) }
    }

    /// Forgets messages, stats, limiter state, updates, webhooks and runtime faults. The seed's
    /// random stream restarts, so a reset run repeats a fresh one exactly.
    public func reset() {
        let workers = state.withLock { s -> [Task<Void, Never>] in
            let workers = Array(s.webhookWorkers.values)
            s.webhookWorkers.removeAll()
            for id in s.bots.keys { s.bots[id]?.wakeAll() }
            s.bots.removeAll()
            s.recorder.reset()
            s.chats = ChatBook()
            s.limiter = RateLimiter(limits: s.limiter.limits)
            s.faults.removeRuntime()
            s.rng = SeededRandom(seed: s.seed)
            return workers
        }
        workers.forEach { $0.cancel() }
    }

    /// Moves the simulator clock forward (update retention, limit windows, fault windows, dates).
    public func advanceClock(by duration: Duration) {
        clock.advance(by: duration.seconds)
    }

    /// Seconds since start on the simulator clock.
    public func now() -> Double { clock.now() }

    // MARK: HTTP

    func handleControl(_ request: Request) async -> Response {
        let path = request.uri.path.split(separator: "/").map(String.init)  // ["_fake", …]
        let query = BotRequestParams.query(request.uri.query)
        var bodyJSON: FakeJSON? = nil
        if let buffer = try? await request.body.collect(upTo: configuration.maxBodySize), buffer.readableBytes > 0 {
            guard let parsed = try? FakeJSON.parse(Data(buffer: buffer)) else { return controlError(400, "body is not valid JSON") }
            bodyJSON = parsed
        }
        let method = request.method
        switch (method, Array(path.dropFirst())) {
        case (.get, ["stats"]):
            return Response.json(stats().json)
        case (.get, ["messages"]):
            let list = messages(bot: query.int("bot"), chat: query.string("chat"))
            return Response.json(["messages": .array(list.map(\.json)), "count": .int(Int64(list.count))])
        case (.post, ["reset"]):
            reset()
            return Response.json(["ok": true])
        case (.get, ["faults"]):
            return Response.json(["faults": .array(faults())])
        case (.post, ["faults"]), (.put, ["faults"]):
            guard let bodyJSON else { return controlError(400, "expected a fault object or {\"faults\": [...]}") }
            do {
                let list = try (bodyJSON["faults"]?.arrayValue ?? [bodyJSON]).map(FakeFault.init(json:))
                let ids = method == .put ? try setFaults(list) : try list.map { try addFault($0) }
                return Response.json(["ok": true, "ids": .array(ids.map { .int(Int64($0)) })])
            } catch {
                return controlError(400, "\(error)")
            }
        case (.delete, ["faults"]):
            clearFaults(includingScenario: query.bool("all"))
            return Response.json(["ok": true])
        case (.delete, let parts) where parts.count == 2 && parts[0] == "faults":
            guard let id = Int(parts[1]), removeFault(id: id) else { return controlError(404, "no such fault") }
            return Response.json(["ok": true])
        case (.post, ["updates"]):
            return controlInjectUpdates(bodyJSON)
        case (.get, ["updates"]):
            guard let bot = query.int("bot") else { return controlError(400, "bot is required") }
            return Response.json(["updates": .array(pendingUpdates(bot: bot))])
        case (.get, ["clock"]):
            return Response.json(["now": .double(now()), "unix_time": .int(clock.unixTime(at: now()))])
        case (.post, ["clock"]):
            guard let seconds = bodyJSON?["advance"]?.doubleValue, seconds >= 0 else {
                return controlError(400, "expected {\"advance\": seconds}")
            }
            advanceClock(by: .seconds(double: seconds))
            return Response.json(["now": .double(now())])
        default:
            return controlError(404, "unknown control endpoint \(method) \(request.uri.path)")
        }
    }

    /// `{"bot": 123 | "token": "123:abc", "update": {...} | "updates": [...]}` or the shorthand
    /// `{"bot": 123, "chat_id": 42, "text": "hi"}` for a user's text message.
    private func controlInjectUpdates(_ body: FakeJSON?) -> Response {
        guard let body else { return controlError(400, "expected a JSON object") }
        guard let bot = body["bot"]?.intValue ?? body["token"]?.stringValue.flatMap(BotRoute.botID(of:)) else {
            return controlError(400, "bot (numeric id) or token is required")
        }
        do {
            var ids: [FakeJSON] = []
            if let text = body["text"]?.stringValue, let chat = body["chat_id"]?.intValue {
                ids.append(try injectMessage(bot: bot, chatID: chat, text: text, fromUserID: body["from_id"]?.intValue).map { .int($0) } ?? .null)
            }
            let updates = body["updates"]?.arrayValue ?? body["update"].map { [$0] } ?? []
            for update in updates {
                ids.append(try injectUpdate(bot: bot, update: update).map { .int($0) } ?? .null)
            }
            guard !ids.isEmpty else { return controlError(400, "nothing to inject: give update, updates or chat_id+text") }
            return Response.json(["ok": true, "update_ids": .array(ids)])
        } catch {
            return controlError(400, "\(error)")
        }
    }

    private func controlError(_ status: Int, _ message: String) -> Response {
        Response.json(["ok": false, "error": .string(message)], status: status)
    }
}

extension BotRequestParams {
    static func query(_ query: String?) -> BotRequestParams {
        var params = BotRequestParams()
        if let query { RequestParamsParser.urlEncoded(Substring(query), into: &params) }
        return params
    }
}
