import Foundation

/// A `multipart/form-data` body (RFC 7578) split into its parts: what bot libraries send with file uploads.
struct MultipartFormData {
    struct Part {
        var name: String
        /// Present for file parts.
        var fileName: String?
        var contentType: String?
        var body: ArraySlice<UInt8>
    }

    struct Malformed: Error {
        var reason: String
    }

    /// The `boundary` parameter of a Content-Type header, unquoted.
    static func boundary(contentType: String) -> String? {
        for parameter in contentType.split(separator: ";").dropFirst() {
            let pair = parameter.split(separator: "=", maxSplits: 1)
            guard pair.count == 2, pair[0].trimmingCharacters(in: .whitespaces).lowercased() == "boundary" else { continue }
            var value = pair[1].trimmingCharacters(in: .whitespaces)
            if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") { value = String(value.dropFirst().dropLast()) }
            return value.isEmpty || value.utf8.count > 200 ? nil : value
        }
        return nil
    }

    static func parse(_ body: [UInt8], boundary: String) throws(Malformed) -> [Part] {
        let dashBoundary = Array("--\(boundary)".utf8)
        let delimiter = Array("\r\n--\(boundary)".utf8)
        guard var position = firstIndex(of: dashBoundary, in: body, from: 0) else {
            throw Malformed(reason: "boundary not found")
        }
        position += dashBoundary.count
        var parts: [Part] = []
        while true {
            // After a boundary: "--" ends the body, CRLF starts a part.
            if body[position...].starts(with: [UInt8(ascii: "-"), UInt8(ascii: "-")]) { return parts }
            guard body[position...].starts(with: crlf) else { throw Malformed(reason: "no line break after a boundary") }
            position += 2
            guard let headersEnd = firstIndex(of: crlf + crlf, in: body, from: position) else {
                throw Malformed(reason: "part headers not terminated")
            }
            let headers = String(decoding: body[position..<headersEnd], as: UTF8.self)
            let contentStart = headersEnd + 4
            guard let contentEnd = firstIndex(of: delimiter, in: body, from: contentStart) else {
                throw Malformed(reason: "closing boundary not found")
            }
            parts.append(try part(headers: headers, body: body[contentStart..<contentEnd]))
            position = contentEnd + delimiter.count
        }
    }

    private static let crlf: [UInt8] = [13, 10]

    private static func part(headers: String, body: ArraySlice<UInt8>) throws(Malformed) -> Part {
        var name: String?
        var fileName: String?
        var contentType: String?
        for line in headers.split(separator: "\r\n") {
            let pair = line.split(separator: ":", maxSplits: 1)
            guard pair.count == 2 else { continue }
            let value = pair[1].trimmingCharacters(in: .whitespaces)
            switch pair[0].trimmingCharacters(in: .whitespaces).lowercased() {
            case "content-disposition":
                name = dispositionParameter("name", in: value)
                fileName = dispositionParameter("filename", in: value)
            case "content-type":
                contentType = value
            default:
                break
            }
        }
        guard let name, !name.isEmpty else { throw Malformed(reason: "a part has no name") }
        return Part(name: name, fileName: fileName, contentType: contentType, body: body)
    }

    /// `name="photo"` (quoted, with backslash escapes) or `name=photo` from a Content-Disposition value.
    static func dispositionParameter(_ key: String, in value: String) -> String? {
        var rest = Substring(value)
        while let semicolon = rest.firstIndex(of: ";") {
            rest = rest[rest.index(after: semicolon)...].drop { $0 == " " || $0 == "\t" }
            guard let equals = rest.firstIndex(of: "="), rest[..<equals].lowercased() == key else { continue }
            var text = rest[rest.index(after: equals)...]
            guard text.first == "\"" else { return String(text.prefix { $0 != ";" }) }
            text = text.dropFirst()
            var result = ""
            var escaped = false
            for character in text {
                if escaped {
                    result.append(character)
                    escaped = false
                } else if character == "\\" {
                    escaped = true
                } else if character == "\"" {
                    return result
                } else {
                    result.append(character)
                }
            }
            return nil
        }
        return nil
    }

    /// The start of `needle` in `haystack` at or after `start`.
    static func firstIndex(of needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
        guard let first = needle.first, haystack.count >= needle.count else { return nil }
        var index = start
        let last = haystack.count - needle.count
        while index <= last {
            if haystack[index] == first, haystack[index..<index + needle.count].elementsEqual(needle) { return index }
            index += 1
        }
        return nil
    }
}
