import Foundation

/// A file sent as a multipart part.
struct UploadedFile: Sendable, Hashable {
    var fileName: String?
    var contentType: String?
    var size: Int
    /// FNV-1a of the content: two uploads of the same bytes get the same file_unique_id.
    var digest: UInt64
    /// The bytes of an upload (empty for a file given by URL or file_id): what getFile's path later serves.
    var data: [UInt8] = []
}

/// The parameters of one Bot API call, merged from the query string and the body.
/// Values from the query, urlencoded and multipart bodies are strings, as on the wire; values from
/// a JSON body keep their JSON type. Accessors convert the way Telegram does.
struct BotRequestParams: Sendable {
    var values: [String: FakeJSON] = [:]
    var files: [String: UploadedFile] = [:]

    /// Parameters whose value Telegram parses as JSON when it arrives as a string.
    static let jsonParameters: Set<String> = [
        "reply_markup", "entities", "caption_entities", "allowed_updates", "link_preview_options",
        "reply_parameters", "media", "message_ids", "results", "commands", "permissions", "options",
    ]

    func has(_ name: String) -> Bool { values[name] != nil || files[name] != nil }

    func string(_ name: String) -> String? { values[name]?.parameterText }

    func int(_ name: String) -> Int64? { values[name]?.intValue }

    func bool(_ name: String) -> Bool { values[name]?.boolValue ?? false }

    /// A JSON-typed parameter: parsed from a string, or taken as sent in a JSON body.
    func json(_ name: String) throws(BotAPIError) -> FakeJSON? {
        guard let value = values[name] else { return nil }
        guard case .string(let text) = value else { return value }
        if text.isEmpty { return nil }
        do {
            return try FakeJSON.parse(text)
        } catch {
            throw .badRequest(name == "reply_markup" ? "can't parse reply keyboard markup JSON object" : "can't parse \(name) JSON object")
        }
    }

    /// What the simulator records: the parameters as received, files described by name and size.
    var raw: FakeJSON {
        var dict = values
        for (name, file) in files {
            var info: [String: FakeJSON] = ["file_size": .int(Int64(file.size))]
            if let n = file.fileName { info["file_name"] = .string(n) }
            if let t = file.contentType { info["mime_type"] = .string(t) }
            dict[name] = .object(info)
        }
        return .object(dict)
    }

    /// An encoding-independent form used to detect duplicate payloads: `chat_id=42` in a form and
    /// `"chat_id": 42` in JSON are the same request, and JSON strings are compared parsed.
    var canonical: String {
        var dict: [String: FakeJSON] = [:]
        for (name, value) in values {
            if Self.jsonParameters.contains(name), case .string(let s) = value, let parsed = try? FakeJSON.parse(s) {
                dict[name] = parsed
            } else if Self.jsonParameters.contains(name) {
                dict[name] = value
            } else {
                dict[name] = .string(value.parameterText)
            }
        }
        for (name, file) in files {
            dict[name] = .string("file:\(file.size):\(file.digest)")
        }
        return FakeJSON.object(dict).serialized
    }
}

enum RequestParamsParser {
    /// Parses `a=1&b=%20x+y` (also used for query strings).
    static func urlEncoded(_ text: Substring, into params: inout BotRequestParams) {
        for pair in text.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = decode(parts[0])
            let value = parts.count > 1 ? decode(parts[1]) : ""
            if !name.isEmpty { params.values[name] = .string(value) }
        }
    }

    private static func decode(_ s: Substring) -> String {
        let spaced = s.replacingOccurrences(of: "+", with: " ")
        return spaced.removingPercentEncoding ?? spaced
    }

    /// Reads the body according to its content type and merges it over the query parameters.
    static func parse(query: String?, contentType: String?, body: [UInt8]) throws(BotAPIError) -> BotRequestParams {
        var params = BotRequestParams()
        if let query { urlEncoded(Substring(query), into: &params) }
        guard !body.isEmpty else { return params }
        let type = (contentType ?? "").lowercased()
        if type.hasPrefix("application/json") {
            guard let json = try? FakeJSON.parse(bytes: body), case .object(let dict) = json else {
                throw .badRequest("can't parse JSON object")
            }
            params.values.merge(dict) { _, body in body }
        } else if type.hasPrefix("multipart/form-data") {
            guard let boundary = MultipartParser.boundary(fromContentType: contentType ?? "") else {
                throw .badRequest("can't parse multipart/form-data: boundary not found")
            }
            try MultipartParser.parse(body, boundary: boundary, into: &params)
        } else {
            // Telegram treats anything else as a form, like curl's default `-d`.
            urlEncoded(Substring(decoding: body, as: UTF8.self), into: &params)
        }
        return params
    }
}
