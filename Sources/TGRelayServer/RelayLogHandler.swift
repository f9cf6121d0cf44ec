import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Logging
import Synchronization
import TGRelayCore

/// The relay's log lines: one line per event on stderr, as `key=value` text or as a JSON object, with
/// every secret the relay knows (bot tokens, API keys, callback and webhook secrets) and anything shaped
/// like a Telegram bot token replaced by `[REDACTED]`, in the message and in every metadata value.
///
/// Redaction happens here, at the one place lines leave the process, so a token that reaches a log call
/// by any path (an error's description, a URL, a library's own message) is still never written.
public struct RelayLogHandler: LogHandler {
    public enum Format: String, Sendable, CaseIterable {
        /// `2026-11-22T12:03:00.123Z info tgrelay: message accepted id=5 lane=default/42`
        case text
        /// `{"at":"…","level":"info","label":"tgrelay","message":"message accepted","id":"5",…}`
        case json
    }

    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    let label: String
    let format: Format
    let redactor: SecretRedactor
    let output: LogOutput

    public init(label: String, format: Format, redactor: SecretRedactor, output: LogOutput = .standardError) {
        self.label = label
        self.format = format
        self.redactor = redactor
        self.output = output
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let message = redactor.redact(event.message.description)
        var line: [UInt8] = []
        line.reserveCapacity(160 + message.utf8.count)
        if format == .json {
            line.append(contentsOf: #"{"at":""#.utf8)
            UTCTimestamp.write(Date(), to: &line)
            line.append(contentsOf: #"","level":"#.utf8)
            CanonicalJSON.writeString(event.level.rawValue, to: &line)
            line.append(contentsOf: #","label":"#.utf8)
            CanonicalJSON.writeString(label, to: &line)
            line.append(contentsOf: #","message":"#.utf8)
            CanonicalJSON.writeString(message, to: &line)
            for (key, value) in fields(event) where !Self.jsonHead.contains(key) {
                line.append(UInt8(ascii: ","))
                CanonicalJSON.writeString(key, to: &line)
                line.append(UInt8(ascii: ":"))
                CanonicalJSON.writeString(redactor.redact(value.description), to: &line)
            }
            line.append(UInt8(ascii: "}"))
        } else {
            UTCTimestamp.write(Date(), to: &line)
            line.append(UInt8(ascii: " "))
            line.append(contentsOf: event.level.rawValue.utf8)
            line.append(UInt8(ascii: " "))
            line.append(contentsOf: label.utf8)
            line.append(contentsOf: ": ".utf8)
            line.append(contentsOf: Self.singleLine(message).utf8)
            for (key, value) in fields(event) {
                let value = redactor.redact(value.description)
                line.append(UInt8(ascii: " "))
                line.append(contentsOf: key.utf8)
                line.append(UInt8(ascii: "="))
                if Self.needsQuotes(value) { CanonicalJSON.writeString(value, to: &line) } else { line.append(contentsOf: value.utf8) }
            }
        }
        line.append(UInt8(ascii: "\n"))
        output.write(line)
    }

    private static let jsonHead: Set<String> = ["at", "level", "label", "message"]

    /// The handler's, the provider's and the event's metadata (later ones win), sorted by key.
    private func fields(_ event: LogEvent) -> [(key: String, value: Logger.Metadata.Value)] {
        var fields = metadata
        if let provided = metadataProvider?.get(), !provided.isEmpty { fields.merge(provided) { $1 } }
        if let extra = event.metadata {
            if fields.isEmpty { fields = extra } else { fields.merge(extra) { $1 } }
        }
        if let error = event.error { fields["error"] = "\(error)" }
        return fields.sorted { $0.key < $1.key }
    }

    /// Text values are quoted (as JSON strings) when empty or holding a space, quote, `=` or line break.
    static func needsQuotes(_ value: String) -> Bool {
        if value.isEmpty { return true }
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: " "), UInt8(ascii: "\""), UInt8(ascii: "="), 0x0A...0x0D: return true
            // Non-ASCII may hold a Unicode line break (U+0085, U+2028, U+2029).
            case 0x80...: return value.contains { $0 == " " || $0 == "\"" || $0 == "=" || $0.isNewline }
            default: continue
            }
        }
        return false
    }

    private static func singleLine(_ text: String) -> String {
        text.utf8.contains { $0 == 0x0A || $0 == 0x0D } ? text.replacing(/\r?\n/, with: "\\n") : text
    }
}

/// Replaces known secrets and anything shaped like a bot token (`<bot id>:<35 characters>`).
public struct SecretRedactor: Sendable {
    /// Longest first, so a secret that contains another is replaced whole.
    let secrets: [String]
    /// Shorter texts can hold no secret and no token (most log values: ids, lanes, statuses), so they skip
    /// the searches, which cost more than the rest of a log line.
    private let shortest: Int
    static let replacement = "[REDACTED]"
    /// `<5 digits>:<30 characters>`, the shortest text the token pattern matches.
    private static let shortestToken = 36

    public init(secrets: [String]) {
        self.secrets = Array(Set(secrets.filter { $0.count >= 4 })).sorted { $0.count > $1.count }
        shortest = min(self.secrets.map(\.utf8.count).min() ?? Self.shortestToken, Self.shortestToken)
    }

    public func redact(_ text: String) -> String {
        guard text.utf8.count >= shortest else { return text }
        var text = text
        for secret in secrets where text.contains(secret) {
            text = text.replacingOccurrences(of: secret, with: Self.replacement)
        }
        guard text.contains(":") else { return text }
        return text.replacing(/[0-9]{5,16}:[A-Za-z0-9_-]{30,}/, with: Self.replacement)
    }
}

/// Where log lines go; whole lines are written under a lock so concurrent lines never interleave.
public final class LogOutput: Sendable {
    private let handle: Mutex<FileHandle>

    public init(_ handle: FileHandle) {
        self.handle = Mutex(handle)
    }

    public static let standardError = LogOutput(.standardError)

    /// One `write(2)` per line (more only if the kernel takes part of it), without copying it into `Data`.
    func write(_ line: [UInt8]) {
        handle.withLock { handle in
            line.withUnsafeBytes { buffer in
                var offset = 0
                while offset < buffer.count {
                    let written = Glibc.write(handle.fileDescriptor, buffer.baseAddress! + offset, buffer.count - offset)
                    if written > 0 {
                        offset += written
                    } else if written < 0, errno == EINTR {
                        continue
                    } else {
                        return
                    }
                }
            }
        }
    }
}

extension RelayConfiguration {
    /// Every secret of this configuration, for `SecretRedactor`.
    public var secrets: [String] {
        let keys = [callbacks.secret, options.ledgerChatKey].compactMap { $0 }.map { String(decoding: $0, as: UTF8.self) }
        return bots.map(\.token) + apiKeys + keys
    }
}
