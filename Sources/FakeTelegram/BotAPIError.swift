import Foundation
import Hummingbird

/// An error answer in Telegram's envelope. The HTTP status always equals `code`.
struct BotAPIError: Error, Sendable, Equatable {
    var code: Int
    var description: String
    var retryAfter: Int? = nil
    var migrateToChatID: Int64? = nil

    static func badRequest(_ tail: String) -> BotAPIError { .init(code: 400, description: "Bad Request: \(tail)") }
    static let unauthorized = BotAPIError(code: 401, description: "Unauthorized")
    static let notFound = BotAPIError(code: 404, description: "Not Found")
    static func forbidden(_ tail: String) -> BotAPIError { .init(code: 403, description: "Forbidden: \(tail)") }
    static func conflict(_ tail: String) -> BotAPIError { .init(code: 409, description: "Conflict: \(tail)") }
    static func tooManyRequests(retryAfter: Int) -> BotAPIError {
        .init(code: 429, description: "Too Many Requests: retry after \(retryAfter)", retryAfter: retryAfter)
    }
    static let internalRestart = BotAPIError(code: 500, description: "Internal Server Error: restart")

    static let chatIDEmpty = badRequest("chat_id is empty")
    static let chatNotFound = badRequest("chat not found")
    static let textEmpty = badRequest("message text is empty")
    static let textTooLong = badRequest("message is too long")
    static let captionTooLong = badRequest("message caption is too long")
    static let messageIDMissing = badRequest("message identifier is not specified")
    static let wrongFileID = badRequest("wrong file identifier/HTTP URL specified")

    var json: FakeJSON {
        var body: [String: FakeJSON] = [
            "ok": false,
            "error_code": .int(Int64(code)),
            "description": .string(description),
        ]
        var parameters: [String: FakeJSON] = [:]
        if let retryAfter { parameters["retry_after"] = .int(Int64(retryAfter)) }
        if let migrateToChatID { parameters["migrate_to_chat_id"] = .int(migrateToChatID) }
        // Telegram sends `parameters` only when it has something to say.
        if !parameters.isEmpty { body["parameters"] = .object(parameters) }
        return .object(body)
    }

    var response: Response { Response.json(json, status: code) }
}

extension Response {
    static func json(_ value: FakeJSON, status: Int = 200) -> Response {
        var buffer = ByteBuffer()
        buffer.writeString(value.serialized)
        return Response(
            status: .init(code: status),
            headers: [.contentType: "application/json", .contentLength: String(buffer.readableBytes)],
            body: .init(byteBuffer: buffer)
        )
    }

    static func ok(_ result: FakeJSON, description: String? = nil) -> Response {
        var body: [String: FakeJSON] = ["ok": true, "result": result]
        if let description { body["description"] = .string(description) }
        return json(.object(body))
    }

    /// What nginx in front of the Bot API sends during an outage: HTML, not JSON.
    static func gatewayHTML(status: Int) -> Response {
        let reason: String
        switch status {
        case 502: reason = "Bad Gateway"
        case 503: reason = "Service Temporarily Unavailable"
        case 504: reason = "Gateway Time-out"
        default: reason = "Error"
        }
        let html = """
            <html>\r
            <head><title>\(status) \(reason)</title></head>\r
            <body>\r
            <center><h1>\(status) \(reason)</h1></center>\r
            <hr><center>nginx/1.18.0</center>\r
            </body>\r
            </html>\r

            """
        var buffer = ByteBuffer()
        buffer.writeString(html)
        return Response(
            status: .init(code: status),
            headers: [.contentType: "text/html", .contentLength: String(buffer.readableBytes), .server: "nginx/1.18.0"],
            body: .init(byteBuffer: buffer)
        )
    }
}
