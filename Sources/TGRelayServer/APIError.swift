import Foundation
import Hummingbird
import NIOCore
import TGRelayCore

/// A REST error: `{"error":{"code":…,"message":…,"field":…}}` with an HTTP status.
///
/// Messages name the offending field but never echo secrets (keys, tokens).
public struct APIError: Error, HTTPResponseError, Sendable {
    public var status: HTTPResponse.Status
    public var code: String
    public var message: String
    public var field: String?
    /// Seconds for `Retry-After` (503 while the store cannot commit).
    public var retryAfter: Int?

    public init(_ status: HTTPResponse.Status, code: String, message: String, field: String? = nil, retryAfter: Int? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.retryAfter = retryAfter
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var error: [String: Any] = ["code": code, "message": message]
        if let field { error["field"] = field }
        var headers: HTTPFields = [.contentType: "application/json; charset=utf-8"]
        if let retryAfter { headers[.retryAfter] = String(retryAfter) }
        return Response(status: status, headers: headers, body: .init(byteBuffer: JSONBody.buffer(["error": error])))
    }

    static func invalid(_ code: String, _ message: String, field: String? = nil) -> APIError {
        APIError(.badRequest, code: code, message: message, field: field)
    }

    static let storeUnavailable = APIError(
        .serviceUnavailable, code: "store_unavailable",
        message: "the message store cannot commit right now; nothing was accepted, retry later", retryAfter: 5)

    static func notFound(_ what: String) -> APIError {
        APIError(.notFound, code: "not_found", message: "\(what) not found")
    }
}

/// JSON in and out with Foundation's serializer: Bot API parameters are free-form objects.
enum JSONBody {
    static func buffer(_ object: Any) -> ByteBuffer {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        return ByteBuffer(bytes: data)
    }

    static func response(_ object: Any, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: buffer(object)))
    }

    /// Reads the whole body (up to `limit` bytes, else 413) and parses a JSON object, keeping
    /// numbers exact (64-bit chat ids never pass through a Double).
    static func object(from request: Request, limit: Int) async throws -> [String: JSONValue] {
        try object(from: try await collect(request, limit: limit))
    }

    static func object(from bytes: ByteBuffer) throws -> [String: JSONValue] {
        let value: JSONValue
        do {
            value = try JSONParser.parse(bytes.readableBytesView)
        } catch {
            throw APIError.invalid("malformed_json", "the request body is not valid JSON: \(error)")
        }
        guard let object = value.objectValue else {
            throw APIError.invalid("malformed_json", "the request body must be a JSON object")
        }
        return object
    }

    static func collect(_ request: Request, limit: Int) async throws -> ByteBuffer {
        if let length = request.headers[.contentLength].flatMap(Int.init), length > limit {
            throw tooLarge(limit)
        }
        // A body without Content-Length (chunked) is only measured while it is read: NIO's collect throws
        // NIOTooManyBytesError, which Hummingbird would otherwise answer with a bare 413 and no JSON error.
        do {
            return try await request.body.collect(upTo: limit)
        } catch is NIOTooManyBytesError {
            throw tooLarge(limit)
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw tooLarge(limit)
        }
    }

    private static func tooLarge(_ limit: Int) -> APIError {
        APIError(.contentTooLarge, code: "body_too_large", message: "the request body exceeds \(limit) bytes")
    }
}
