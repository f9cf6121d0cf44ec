import Foundation
import NIOCore
import TGRelayCore

/// Encodes text fields and files as `multipart/form-data` (RFC 7578), the encoding Telegram requires
/// for uploads.
enum MultipartBody {
    /// A boundary that cannot occur in the parts: random, and checked against the content.
    static func boundary(for files: [FileUpload], fields: [(String, String)]) -> String {
        while true {
            let candidate = "tgrelay-" + UUID().uuidString
            let bytes = Array(candidate.utf8)
            let clash = files.contains { contains($0.data, bytes) } || fields.contains { $0.1.contains(candidate) }
            if !clash { return candidate }
        }
    }

    static func encode(fields: [(String, String)], files: [FileUpload], boundary: String) -> ByteBuffer {
        var buffer = ByteBuffer()
        for (name, value) in fields {
            buffer.writeString("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(quoted(name))\"\r\n\r\n")
            buffer.writeString(value)
            buffer.writeString("\r\n")
        }
        for file in files {
            buffer.writeString("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(quoted(file.field))\"")
            buffer.writeString("; filename=\"\(quoted(file.fileName ?? file.field))\"\r\n")
            buffer.writeString("Content-Type: \(file.contentType ?? "application/octet-stream")\r\n\r\n")
            buffer.writeBytes(file.data)
            buffer.writeString("\r\n")
        }
        buffer.writeString("--\(boundary)--\r\n")
        return buffer
    }

    /// Quotes and line breaks cannot appear inside a quoted header parameter.
    private static func quoted(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\r", with: " ").replacingOccurrences(of: "\n", with: " ")
    }

    private static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard haystack.count >= needle.count, let first = needle.first else { return false }
        for index in 0...(haystack.count - needle.count) where haystack[index] == first {
            if haystack[index..<index + needle.count].elementsEqual(needle) { return true }
        }
        return false
    }
}
