import Foundation
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
        var fields = metadata
        if let provided = metadataProvider?.get() { fields.merge(provided) { $1 } }
        if let extra = event.metadata { fields.merge(extra) { $1 } }
        if let error = event.error { fields["error"] = "\(error)" }
        let message = redactor.redact(event.message.description)
        let values = fields.sorted { $0.key < $1.key }.map { ($0.key, redactor.redact($0.value.description)) }
        let at = MessageView.timestamp(Date())
        output.write(format == .json
            ? Self.json(at: at, level: event.level, label: label, message: message, values: values)
            : Self.text(at: at, level: event.level, label: label, message: message, values: values))
    }

    static func text(at: String, level: Logger.Level, label: String, message: String, values: [(String, String)]) -> String {
        var line = "\(at) \(level) \(label): \(Self.singleLine(message))"
        for (key, value) in values {
            let needsQuotes = value.isEmpty || value.contains { $0 == " " || $0 == "\"" || $0 == "=" || $0.isNewline }
            line += " \(key)=" + (needsQuotes ? Self.quoted(value) : value)
        }
        return line + "\n"
    }

    static func json(at: String, level: Logger.Level, label: String, message: String, values: [(String, String)]) -> String {
        var line = #"{"at":\#(quoted(at)),"level":\#(quoted(level.rawValue)),"label":\#(quoted(label)),"message":\#(quoted(message))"#
        for (key, value) in values where !["at", "level", "label", "message"].contains(key) {
            line += ",\(quoted(key)):\(quoted(value))"
        }
        return line + "}\n"
    }

    /// A JSON string literal (also used for quoted text values, which need the same escapes).
    static func quoted(_ text: String) -> String {
        CanonicalJSON.serialize(.string(text))
    }

    private static func singleLine(_ text: String) -> String {
        text.contains(where: \.isNewline) ? text.replacing(/\r?\n/, with: "\\n") : text
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

    func write(_ line: String) {
        handle.withLock { $0.write(Data(line.utf8)) }
    }
}

extension RelayConfiguration {
    /// Every secret of this configuration, for `SecretRedactor`.
    public var secrets: [String] {
        let keys = [callbacks.secret, options.ledgerChatKey].compactMap { $0 }.map { String(decoding: $0, as: UTF8.self) }
        return bots.map(\.token) + apiKeys + keys
    }
}
