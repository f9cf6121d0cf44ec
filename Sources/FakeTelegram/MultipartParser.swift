import Foundation

/// A small RFC 7578 reader: enough for what bot libraries send (one field or file per part).
enum MultipartParser {
    static func boundary(fromContentType contentType: String) -> String? {
        for piece in contentType.split(separator: ";").dropFirst() {
            let kv = piece.split(separator: "=", maxSplits: 1)
            guard kv.count == 2, kv[0].trimmingCharacters(in: .whitespaces).lowercased() == "boundary" else { continue }
            var value = kv[1].trimmingCharacters(in: .whitespaces)
            if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 {
                value = String(value.dropFirst().dropLast())
            }
            return value.isEmpty ? nil : value
        }
        return nil
    }

    static func parse(_ body: [UInt8], boundary: String, into params: inout BotRequestParams) throws(BotAPIError) {
        let delimiter = Array("--\(boundary)".utf8)
        guard var cursor = find(delimiter, in: body, from: 0) else {
            throw .badRequest("can't parse multipart/form-data: no parts")
        }
        while true {
            cursor += delimiter.count
            // "--" after a delimiter closes the body.
            if cursor + 1 < body.count, body[cursor] == UInt8(ascii: "-"), body[cursor + 1] == UInt8(ascii: "-") { return }
            guard let headerStart = find([13, 10], in: body, from: cursor).map({ $0 + 2 }),
                let headerEnd = find([13, 10, 13, 10], in: body, from: headerStart)
            else { throw .badRequest("can't parse multipart/form-data: truncated part") }
            let headers = String(decoding: body[headerStart..<headerEnd], as: UTF8.self)
            let contentStart = headerEnd + 4
            guard let next = find([13, 10] + delimiter, in: body, from: contentStart) else {
                throw .badRequest("can't parse multipart/form-data: unterminated part")
            }
            let content = Array(body[contentStart..<next])
            store(headers: headers, content: content, into: &params)
            cursor = next + 2
        }
    }

    private static func store(headers: String, content: [UInt8], into params: inout BotRequestParams) {
        var name: String?
        var fileName: String?
        var contentType: String?
        for line in headers.split(separator: "\r\n") {
            let parts = line.split(separator: ":", maxSplits: 1)
            guard parts.count == 2 else { continue }
            let key = parts[0].trimmingCharacters(in: .whitespaces).lowercased()
            let value = parts[1].trimmingCharacters(in: .whitespaces)
            if key == "content-disposition" {
                name = attribute("name", in: value)
                fileName = attribute("filename", in: value)
            } else if key == "content-type" {
                contentType = value
            }
        }
        guard let name, !name.isEmpty else { return }
        if fileName != nil {
            params.files[name] = UploadedFile(
                fileName: fileName, contentType: contentType, size: content.count, digest: fnv1a(content), data: content)
        } else {
            params.values[name] = .string(String(decoding: content, as: UTF8.self))
        }
    }

    private static func attribute(_ key: String, in disposition: String) -> String? {
        for piece in disposition.split(separator: ";").dropFirst() {
            let kv = piece.split(separator: "=", maxSplits: 1)
            guard kv.count == 2, kv[0].trimmingCharacters(in: .whitespaces).lowercased() == key else { continue }
            var value = kv[1].trimmingCharacters(in: .whitespaces)
            if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 {
                value = String(value.dropFirst().dropLast())
            }
            return value
        }
        return nil
    }

    static func find(_ needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
        guard !needle.isEmpty, haystack.count >= needle.count, start <= haystack.count - needle.count else { return nil }
        let first = needle[0]
        var i = start
        let last = haystack.count - needle.count
        while i <= last {
            if haystack[i] == first {
                var j = 1
                while j < needle.count, haystack[i + j] == needle[j] { j += 1 }
                if j == needle.count { return i }
            }
            i += 1
        }
        return nil
    }
}

func fnv1a(_ bytes: some Sequence<UInt8>) -> UInt64 {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in bytes {
        hash ^= UInt64(byte)
        hash = hash &* 0x100_0000_01b3
    }
    return hash
}
