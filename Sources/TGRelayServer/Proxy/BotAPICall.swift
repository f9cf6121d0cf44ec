import Foundation
import Hummingbird
import NIOCore
import TGRelayCore
import TGRelayStore

/// One `/bot<token>/<method>` request, decoded from whichever of Telegram's four encodings it used:
/// query string, `application/x-www-form-urlencoded`, `application/json` or `multipart/form-data`.
/// Body parameters override query parameters of the same name, as Telegram's server does.
struct BotAPICall {
    var params: [String: JSONValue] = [:]
    /// File parts of a multipart body (uploads), in the order they came.
    var uploads: [FileUpload] = []

    /// Telegram's limit for uploads through the Bot API (multipart/form-data), in bytes.
    static let uploadLimit = 50 << 20

    static func decode(query: String?, contentType: String?, body: ByteBuffer) throws(BotAPIError) -> BotAPICall {
        var call = BotAPICall()
        if let query { call.addForm(Substring(query)) }
        guard body.readableBytes > 0 else { return call }
        let type = (contentType ?? "").lowercased()
        if type.hasPrefix("application/json") {
            guard let value = try? JSONParser.parse(body.readableBytesView), let object = value.objectValue else {
                throw BotAPIError(400, "Bad Request: can't parse JSON object")
            }
            call.params.merge(object) { _, body in body }
        } else if type.hasPrefix("multipart/form-data") {
            guard let boundary = MultipartFormData.boundary(contentType: contentType ?? "") else {
                throw BotAPIError(400, "Bad Request: can't parse multipart/form-data: boundary not found")
            }
            try call.addMultipart(Array(buffer: body), boundary: boundary)
        } else {
            // Telegram reads any other body as a form, like curl's default `-d`.
            call.addForm(Substring(decoding: body.readableBytesView, as: UTF8.self))
        }
        return call
    }

    private mutating func addForm(_ text: Substring) {
        for pair in text.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = Self.formDecode(parts[0])
            guard !name.isEmpty else { continue }
            params[name] = BotAPIParameters.fromText(name: name, value: parts.count > 1 ? Self.formDecode(parts[1]) : "")
        }
    }

    private mutating func addMultipart(_ body: [UInt8], boundary: String) throws(BotAPIError) {
        let parts: [MultipartFormData.Part]
        do {
            parts = try MultipartFormData.parse(body, boundary: boundary)
        } catch {
            throw BotAPIError(400, "Bad Request: can't parse multipart/form-data: \(error.reason)")
        }
        for part in parts {
            if part.fileName != nil {
                uploads.removeAll { $0.field == part.name }
                uploads.append(FileUpload(field: part.name, fileName: part.fileName, contentType: part.contentType, data: Array(part.body)))
            } else {
                params[part.name] = BotAPIParameters.fromText(name: part.name, value: String(decoding: part.body, as: UTF8.self))
            }
        }
        let total = uploads.reduce(0) { $0 + $1.data.count }
        if total > Self.uploadLimit {
            throw BotAPIError(413, "Request Entity Too Large: uploads are limited to 50 MB, this request has \(total) bytes")
        }
    }

    /// `+` is a space in forms; then percent-decoding.
    private static func formDecode(_ text: Substring) -> String {
        let spaced = text.replacingOccurrences(of: "+", with: " ")
        return spaced.removingPercentEncoding ?? spaced
    }
}

/// A Bot API error answer as Telegram shapes it: `{"ok":false,"error_code":N,"description":…}` with
/// HTTP status N, and `parameters.retry_after` (plus `Retry-After`) when there is one.
struct BotAPIError: Error {
    var code: Int
    var description: String
    var retryAfter: Int?

    init(_ code: Int, _ description: String, retryAfter: Int? = nil) {
        self.code = code
        self.description = description
        self.retryAfter = retryAfter
    }

    static let unauthorized = BotAPIError(401, "Unauthorized")
    static let notFound = BotAPIError(404, "Not Found")

    static func tooManyRequests(retryAfter: Int) -> BotAPIError {
        BotAPIError(429, "Too Many Requests: retry after \(retryAfter)", retryAfter: retryAfter)
    }

    /// In Telegram's own key order (`ok`, `error_code`, `description`, `parameters`).
    var response: Response {
        var json = #"{"ok":false,"error_code":\#(code),"description":"# + Self.quoted(description)
        var headers: HTTPFields = [.contentType: "application/json"]
        if let retryAfter {
            json += #","parameters":{"retry_after":\#(retryAfter)}"#
            headers[.retryAfter] = String(retryAfter)
        }
        json += "}"
        return Response(status: .init(code: code), headers: headers, body: .init(byteBuffer: ByteBuffer(string: json)))
    }

    private static func quoted(_ text: String) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: text, options: [.fragmentsAllowed, .withoutEscapingSlashes])) ?? Data("\"\"".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}
