import ArgumentParser
import Foundation

/// `tgrelay send`: accept one message through a running relay, optionally waiting for its final state.
struct SendCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "send",
        abstract: "Send one message through a running relay (durably queued, then delivered).",
        discussion: """
            Posts to the relay's /v1/messages: the relay answers as soon as the message is stored, and
            delivers it in order, within Telegram's limits, retrying through outages. Prints the message id
            and status; with --wait, waits for the final state (delivered, failed, expired, cancelled) and
            exits 1 unless it was delivered.

            Examples:
              tgrelay send --chat 42 --text "Disk almost full on db-1"
              tgrelay send --chat @mychannel --text "<b>Deploy done</b>" --parse-mode HTML --wait
              tgrelay send --bot alerts --chat -1001234567890 --method sendPhoto --params '{"photo": "https://example.com/graph.png"}'
            """
    )

    @OptionGroup var relay: RelayAddress

    // Unconditional, so a group's negative id is read as the value, not as an unknown flag.
    @Option(parsing: .unconditional, help: "Chat id (42, -1001234567890) or @channelusername.")
    var chat: String

    @Option(help: "Message text (sendMessage).")
    var text: String?

    @Option(help: "Bot API parse mode of the text: HTML, MarkdownV2 or Markdown.")
    var parseMode: String?

    @Option(help: "Configured bot name.")
    var bot: String = "default"

    @Option(help: "Bot API method.")
    var method: String = "sendMessage"

    @Option(help: "More Bot API parameters as a JSON object, e.g. '{\"disable_notification\": true}'.")
    var params: String?

    @Option(help: "Same key, same payload: the relay returns the existing message instead of sending twice.")
    var idempotencyKey: String?

    @Option(help: "Give up (status expired) if not delivered within this many seconds.")
    var ttl: Double?

    @Flag(help: "Wait for the final state and print it.")
    var wait = false

    func run() async throws {
        var parameters: [String: Any] = [:]
        if let params {
            guard let object = (try? JSONSerialization.jsonObject(with: Data(params.utf8))) as? [String: Any] else {
                throw ValidationError("--params must be a JSON object")
            }
            parameters = object
        }
        parameters["chat_id"] = Int64(chat).map { $0 as Any } ?? chat
        if let text { parameters["text"] = text }
        if let parseMode { parameters["parse_mode"] = parseMode }
        var body: [String: Any] = ["bot": bot, "method": method, "params": parameters]
        if let idempotencyKey { body["idempotency_key"] = idempotencyKey }
        if let ttl { body["ttl_seconds"] = ttl }
        try await relay.withAPI { api in
            let accepted = try await api.call(.POST, "/v1/messages", body: body)
            guard let id = accepted["id"] as? Int else { throw ValidationError("unexpected answer: \(accepted)") }
            print("message \(id): \(accepted["status"] as? String ?? "?")")
            guard wait else { return }
            while true {
                let message = try await api.call(.GET, "/v1/messages/\(id)")
                let status = message["status"] as? String ?? "?"
                if ["delivered", "failed", "expired", "cancelled"].contains(status) {
                    let detail = (message["message_id"] as? Int).map { " (Telegram message_id \($0))" }
                        ?? (message["last_error"] as? String).map { ": \($0)" } ?? ""
                    print("message \(id): \(status)\(detail)")
                    if status != "delivered" { throw ExitCode(1) }
                    return
                }
                try await Task.sleep(for: .milliseconds(250))
            }
        }
    }
}
