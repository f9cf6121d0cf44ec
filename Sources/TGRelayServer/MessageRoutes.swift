import Foundation
import HTTPTypes
import Hummingbird
import Logging
import TGRelayCore
import TGRelayStore

/// `/v1/messages…` and `/v1/broadcasts`: accept durably, then wake the dispatcher.
struct MessageRoutes {
    let store: any MessageStore
    let configuration: RelayConfiguration
    let dispatcher: Dispatcher

    var accept: AcceptRequest { AcceptRequest(configuration: configuration) }

    func register(on router: RouterGroup<RelayRequestContext>) {
        router.post("messages") { request, _ in try await acceptOne(request) }
        router.post("messages/batch") { request, _ in try await acceptBatch(request) }
        router.post("broadcasts") { request, _ in try await broadcast(request) }
        router.get("messages/:id") { _, context in
            let message = try await storeCall { try await store.message(id: try messageID(context)) }
            guard let message else { throw APIError.notFound("message") }
            return JSONBody.response(MessageView.json(message))
        }
        router.delete("messages/:id") { _, context in
            let id = try messageID(context)
            guard let message = try await storeCall({ try await store.cancel(id: id, now: Date()) }) else {
                throw APIError.notFound("message")
            }
            dispatcher.waiters.signal(id)
            guard message.status == .cancelled else {
                throw APIError(.conflict, code: "not_cancellable", message: "message \(id) is \(message.status.rawValue) and can no longer be cancelled")
            }
            dispatcher.logger.info("message cancelled", metadata: ["id": "\(id)", "lane": "\(message.lane)"])
            return JSONBody.response(MessageView.json(message))
        }
    }

    private func acceptOne(_ request: Request) async throws -> Response {
        let body = try await JSONBody.object(from: request, limit: configuration.options.maxBodyBytes)
        let message = try accept.parse(body, idempotencyHeader: request.headers[.idempotencyKey], now: Date())
        let result = try await commit([message]).first!
        switch result {
        case .created(let stored): return Self.acceptedResponse(stored)
        case .existing(let stored): return JSONBody.response(MessageView.json(stored), status: .ok)
        case .conflict(let id): throw Self.conflict(id)
        }
    }

    private func acceptBatch(_ request: Request) async throws -> Response {
        let body = try await JSONBody.object(from: request, limit: configuration.options.maxBodyBytes * 16)
        guard let items = body["messages"]?.arrayValue else {
            throw APIError.invalid("missing_field", "messages must be an array of messages", field: "messages")
        }
        try checkBatchSize(items.count, field: "messages")
        let now = Date()
        let messages = try items.enumerated().map { index, item in
            guard let object = item.objectValue else {
                throw APIError.invalid("invalid_field", "each message must be a JSON object", field: "messages[\(index)]")
            }
            return try accept.parse(object, idempotencyHeader: nil, now: now, fieldPrefix: "messages[\(index)].")
        }
        return Self.batchResponse(try await commit(messages))
    }

    /// One payload to many chats; each chat gets its own message (and lane).
    private func broadcast(_ request: Request) async throws -> Response {
        let body = try await JSONBody.object(from: request, limit: configuration.options.maxBodyBytes * 16)
        guard let chats = body["chat_ids"]?.arrayValue, !chats.isEmpty else {
            throw APIError.invalid("missing_field", "chat_ids must be a non-empty array", field: "chat_ids")
        }
        try checkBatchSize(chats.count, field: "chat_ids")
        // Typed like a single message: a non-string bot must not quietly mean the default bot.
        let bot = try accept.string(body, "bot", prefix: "") ?? "default"
        try accept.requireBot(bot, field: "bot")
        let method = try accept.string(body, "method", prefix: "") ?? "sendMessage"
        guard let template = body["params"]?.objectValue else {
            throw APIError.invalid("missing_field", "params must be a JSON object", field: "params")
        }
        let key = try accept.string(body, "idempotency_key", prefix: "") ?? request.headers[.idempotencyKey]
        let now = Date()
        let messages = try chats.enumerated().map { index, chat in
            var params = template
            params["chat_id"] = chat
            var envelope = body
            // Per-chat keys keep a retried broadcast idempotent chat by chat.
            envelope["idempotency_key"] = key.map { .string("\($0):\(ChatReference.canonical(chat) ?? String(index))") }
            do {
                return try accept.message(
                    bot: bot, method: method, params: params, envelope: envelope, idempotencyHeader: nil, now: now, fieldPrefix: "")
            } catch var error as APIError where error.field == "params.chat_id" {
                error.field = "chat_ids[\(index)]"
                throw error
            }
        }
        return Self.batchResponse(try await commit(messages))
    }

    private func checkBatchSize(_ count: Int, field: String) throws {
        guard count <= configuration.options.maxBatch else {
            throw APIError(.contentTooLarge, code: "batch_too_large", message: "at most \(configuration.options.maxBatch) messages in one request", field: field)
        }
    }

    private func commit(_ messages: [NewMessage]) async throws -> [AcceptResult] {
        let results = try await storeCall { try await store.accept(messages, now: Date()) }
        var lanes: Set<LaneKey> = []
        for case .created(let stored) in results {
            lanes.insert(stored.lane)
            dispatcher.noteAccepted(stored)
        }
        if !lanes.isEmpty { dispatcher.lanesChanged(lanes) }
        return results
    }

    private func messageID(_ context: RelayRequestContext) throws -> Int64 {
        guard let id = context.parameters.get("id", as: Int64.self) else {
            throw APIError.invalid("invalid_field", "id must be an integer", field: "id")
        }
        return id
    }

    static func conflict(_ id: Int64) -> APIError {
        APIError(.conflict, code: "idempotency_conflict", message: "this idempotency key was used for a different payload (message \(id))", field: "idempotency_key")
    }

    /// Written by hand, like the batch answer: the hot path of single accepts.
    static func acceptedResponse(_ message: OutboundMessage) -> Response {
        handWritten(#"{"id":\#(message.id),"status":"\#(message.status.rawValue)"}"#)
    }

    private static func handWritten(_ json: String) -> Response {
        Response(status: .accepted, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: json)))
    }

    /// Written by hand: a 1000-message answer through `JSONSerialization` and `[String: Any]` costs
    /// more than storing the batch.
    static func batchResponse(_ results: [AcceptResult]) -> Response {
        var json = #"{"messages":["#
        json.reserveCapacity(results.count * 40)
        for (index, result) in results.enumerated() {
            if index > 0 { json += "," }
            switch result {
            case .created(let message):
                json += #"{"id":\#(message.id),"status":"\#(message.status.rawValue)"}"#
            case .existing(let message):
                json += #"{"existing":true,"id":\#(message.id),"status":"\#(message.status.rawValue)"}"#
            case .conflict(let id):
                json += #"{"error":{"code":"idempotency_conflict","field":"idempotency_key","message":"idempotency key used for a different payload (message \#(id))"}}"#
            }
        }
        json += "]}"
        return handWritten(json)
    }
}

/// Maps any storage failure to 503 + Retry-After: the caller must never believe an uncommitted accept.
func storeCall<T>(_ body: () async throws -> T) async throws -> T {
    do {
        return try await body()
    } catch let error as APIError {
        throw error
    } catch {
        throw APIError.storeUnavailable
    }
}

extension HTTPField.Name {
    static let idempotencyKey = Self("Idempotency-Key")!
}
