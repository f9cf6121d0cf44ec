import Foundation
import Hummingbird
import TGRelayCore
import TGRelayStore

/// Dead letters, ledger and chat state.
struct AdminRoutes {
    let store: any MessageStore
    let configuration: RelayConfiguration
    let dispatcher: Dispatcher

    func register(on router: RouterGroup<RelayRequestContext>) {
        router.get("dead-letters") { request, _ in
            let messages = try await storeCall { try await store.deadLetters(try deadLetterFilter(request.uri.queryParameters)) }
            return JSONBody.response(["dead_letters": messages.map(MessageView.json)])
        }
        router.post("dead-letters/:id/replay") { _, context in
            guard let id = context.parameters.get("id", as: Int64.self) else {
                throw APIError.invalid("invalid_field", "id must be an integer", field: "id")
            }
            let replayed = try await storeCall { try await store.replay(ids: [id], now: Date()) }
            guard let message = replayed.first else {
                throw APIError(.notFound, code: "not_found", message: "no dead letter \(id)")
            }
            dispatcher.lanesChanged([message.lane])
            dispatcher.logger.info("dead letter replayed", metadata: ["id": "\(message.id)", "lane": "\(message.lane)"])
            return JSONBody.response(MessageView.json(message))
        }
        // Bulk replay: the same filter as the listing, in the query or a JSON body.
        router.post("dead-letters/replay") { request, _ in
            let filter = try deadLetterFilter(try await Self.bulkFilterFields(request), defaultLimit: 10_000)
            let replayed = try await storeCall { try await store.replayDeadLetters(filter, now: Date()) }
            dispatcher.lanesChanged(Set(replayed.map(\.lane)))
            for message in replayed {
                dispatcher.logger.info("dead letter replayed", metadata: ["id": "\(message.id)", "lane": "\(message.lane)"])
            }
            return JSONBody.response(["replayed": replayed.count, "ids": replayed.map(\.id)])
        }
        router.delete("dead-letters/:id") { _, context in
            guard let id = context.parameters.get("id", as: Int64.self) else {
                throw APIError.invalid("invalid_field", "id must be an integer", field: "id")
            }
            guard try await storeCall({ try await store.purge(ids: [id]) }) == [id] else {
                throw APIError(.notFound, code: "not_found", message: "no dead letter \(id)")
            }
            dispatcher.logger.info("dead letter purged", metadata: ["id": "\(id)"])
            return JSONBody.response(["purged": 1, "ids": [id]])
        }
        // Bulk purge: deleting is final, so an empty filter is refused unless `all` says so explicitly.
        router.post("dead-letters/purge") { request, _ in
            let fields = try await Self.bulkFilterFields(request)
            guard fields["bot"] != nil || fields["chat_id"] != nil || fields["chat"] != nil || fields["reason"] != nil
                || fields["all"] == "true"
            else {
                throw APIError.invalid("missing_field", "name bot, chat_id or reason, or set all=true to purge every dead letter", field: "all")
            }
            let filter = try deadLetterFilter(fields, defaultLimit: 10_000)
            let purged = try await storeCall { try await store.purgeDeadLetters(filter) }
            for id in purged { dispatcher.logger.info("dead letter purged", metadata: ["id": "\(id)"]) }
            return JSONBody.response(["purged": purged.count, "ids": purged])
        }
        router.get("ledger") { request, _ in
            let entries = try await storeCall { try await store.ledger(try ledgerQuery(request.uri.queryParameters)) }
            return JSONBody.response(["entries": entries.map(LedgerView.json)])
        }
        router.get("ledger/export") { request, _ in
            var query = try ledgerQuery(request.uri.queryParameters)
            query.limit = 1000
            let pages = LedgerPages(store: store, query: query)
            return Response(status: .ok, headers: [.contentType: "application/x-ndjson"], body: .init(asyncSequence: pages))
        }
        router.post("chats/:bot/:chat/reactivate") { _, context in
            guard let bot = context.parameters.get("bot"), let raw = context.parameters.get("chat") else {
                throw APIError.invalid("missing_field", "bot and chat are required", field: "chat")
            }
            // A typo in the bot would otherwise answer 200 and reactivate nothing.
            try AcceptRequest(configuration: configuration).requireBot(bot, field: "bot")
            // The inactive mark is kept under the canonical chat: "@News" must reactivate "@news".
            // Path parameters arrive percent-encoded ("%40news" from clients that escape "@").
            guard let chat = ChatReference.canonical(raw.removingPercentEncoding ?? raw) else {
                throw APIError.invalid("invalid_chat_id", "chat must be a non-zero integer or \"@username\"", field: "chat")
            }
            try await storeCall { try await store.reactivateChat(bot: bot, chat: chat) }
            await dispatcher.chatReactivated(LaneKey(bot: bot, chat: chat))
            dispatcher.logger.info("chat reactivated", metadata: ["lane": "\(LaneKey(bot: bot, chat: chat))"])
            return JSONBody.response(["bot": bot, "chat_id": chat, "active": true])
        }
        router.get("chats/inactive") { _, _ in
            let chats = try await storeCall { try await store.inactiveChats(bot: nil) }
            return JSONBody.response(["inactive_chats": chats.map { ["bot": $0.bot, "chat_id": $0.chat, "reason": $0.reason, "since": UTCTimestamp.string($0.since)] }])
        }
    }

    private func deadLetterFilter<Q: Sequence>(_ query: Q, defaultLimit: Int = 100) throws -> DeadLetterFilter
    where Q.Element == (key: Substring, value: Substring) {
        try deadLetterFilter(query.reduce(into: [String: String]()) { $0[String($1.key)] = String($1.value) }, defaultLimit: defaultLimit)
    }

    /// The filter of a bulk operation: query parameters, overridden by a JSON body's fields. An empty body
    /// means "the query alone"; a body that does not parse is refused, because ignoring it would widen the
    /// filter to every dead letter.
    private static func bulkFilterFields(_ request: Request) async throws -> [String: String] {
        var query = request.uri.queryParameters.reduce(into: [String: String]()) { $0[String($1.key)] = String($1.value) }
        let bytes = try await JSONBody.collect(request, limit: 1 << 16)
        if bytes.readableBytesView.contains(where: { !Self.isJSONWhitespace($0) }) {
            for (key, value) in try JSONBody.object(from: bytes) { query[key] = try Self.filterText(value, field: key) }
        }
        return query
    }

    /// A filter value from a JSON body as the query would carry it: strings as they are, numbers as written.
    private static func filterText(_ value: JSONValue, field: String) throws -> String {
        switch value {
        case .string(let text): return text
        case .number(let number): return number.description
        case .bool(let flag): return flag ? "true" : "false"
        default: throw APIError.invalid("invalid_field", "\(field) must be a string, a number or a boolean", field: field)
        }
    }

    private static func isJSONWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09
    }

    /// Chats are stored canonically (`@name` in lower case), so filters must name them the same way.
    private static func chatFilter(_ query: [String: String]) -> String? {
        (query["chat_id"] ?? query["chat"]).map { ChatReference.canonical($0) ?? $0 }
    }

    private func deadLetterFilter(_ query: [String: String], defaultLimit: Int = 100) throws -> DeadLetterFilter {
        DeadLetterFilter(
            bot: query["bot"], chat: Self.chatFilter(query), reasonContains: query["reason"],
            limit: try limit(query["limit"], default: defaultLimit, max: 10_000))
    }

    private func ledgerQuery(_ parameters: some Sequence<(key: Substring, value: Substring)>) throws -> LedgerQuery {
        let query = parameters.reduce(into: [String: String]()) { $0[String($1.key)] = String($1.value) }
        func integer(_ key: String) throws -> Int64? {
            guard let text = query[key] else { return nil }
            guard let value = Int64(text) else { throw APIError.invalid("invalid_field", "\(key) must be an integer", field: key) }
            return value
        }
        func time(_ key: String) throws -> Date? {
            guard let text = query[key] else { return nil }
            if let date = AcceptRequest.iso8601(text) { return date }
            if let seconds = Double(text) { return Date(timeIntervalSince1970: seconds) }
            throw APIError.invalid("invalid_field", "\(key) must be an ISO-8601 time or Unix seconds", field: key)
        }
        return LedgerQuery(
            messageID: try integer("message_id"), chat: Self.chatFilter(query), bot: query["bot"],
            since: try time("since"), until: try time("until"), afterSeq: try integer("after_seq"),
            limit: try limit(query["limit"], default: 100, max: 1000))
    }

    private func limit(_ text: String?, default value: Int, max: Int) throws -> Int {
        guard let text else { return value }
        guard let limit = Int(text), (1...max).contains(limit) else {
            throw APIError.invalid("invalid_field", "limit must be 1-\(max)", field: "limit")
        }
        return limit
    }
}

/// The ledger as JSON Lines, read page by page so an export never holds the whole ledger in memory.
struct LedgerPages: AsyncSequence {
    typealias Element = ByteBuffer
    let store: any MessageStore
    let query: LedgerQuery

    struct AsyncIterator: AsyncIteratorProtocol {
        let store: any MessageStore
        var query: LedgerQuery
        var done = false

        mutating func next() async throws -> ByteBuffer? {
            guard !done else { return nil }
            let page = try await store.ledger(query)
            if page.count < query.limit { done = true }
            guard let last = page.last else { return nil }
            query.afterSeq = last.seq
            var buffer = ByteBuffer()
            for entry in page { buffer.writeBytes(LedgerExport.line(entry)) }
            return buffer
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(store: store, query: query) }
}

enum LedgerView {
    static func json(_ entry: LedgerEntry) -> [String: Any] {
        var json: [String: Any] = [
            "seq": entry.seq, "at": UTCTimestamp.string(entry.at), "message_id": entry.messageID, "bot": entry.bot,
            "chat_id": entry.chat, "method": entry.method, "payload_sha256": entry.payloadHash, "endpoint": entry.endpoint,
            "ok": entry.ok, "outcome": entry.outcome, "ambiguous": entry.ambiguous, "duration_ms": entry.durationMs,
            "prev_hash": entry.prevHash, "hash": entry.hash,
        ]
        if let status = entry.httpStatus { json["http_status"] = status }
        if let code = entry.errorCode { json["error_code"] = code }
        if let description = entry.description { json["description"] = description }
        if let retryAfter = entry.retryAfter { json["retry_after"] = retryAfter }
        if !entry.telegramMessageIDs.isEmpty { json["telegram_message_ids"] = entry.telegramMessageIDs }
        if let body = entry.responseBody { json["response_body"] = body }
        return json
    }
}
