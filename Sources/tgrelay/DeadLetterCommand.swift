import ArgumentParser
import Foundation

/// `tgrelay dlq list|replay|purge`: dead letters (failed messages) of a running relay.
struct DeadLetterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dlq",
        abstract: "List, replay or purge dead letters: messages Telegram refused or that ran out of attempts.",
        discussion: """
            A dead letter keeps its payload and the reason it failed until it is replayed (queued again at
            the end of its chat's queue, with a fresh attempt budget) or purged (deleted; its delivery
            attempts stay in the ledger). Talks to a running relay.

            Examples:
              tgrelay dlq list --reason "chat not found"
              tgrelay dlq replay 1042 1043
              tgrelay dlq replay --all --bot alerts
              tgrelay dlq purge --all --reason "bot was blocked"
            """,
        subcommands: [List.self, Replay.self, Purge.self]
    )

    /// Which dead letters a bulk command selects.
    struct Filter: ParsableArguments {
        @Option(help: "Only this configured bot.")
        var bot: String?

        @Option(parsing: .unconditional, help: "Only this chat (id, negative for groups, or @username).")
        var chat: String?

        @Option(help: "Only failures whose reason contains this text (case-insensitive).")
        var reason: String?

        var isEmpty: Bool { bot == nil && chat == nil && reason == nil }

        var fields: [(String, String?)] { [("bot", bot), ("chat_id", chat), ("reason", reason)] }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show dead letters, newest failure first.",
            discussion: """
                Example:
                  tgrelay dlq list --bot default --limit 20
                """
        )

        @OptionGroup var relay: RelayAddress
        @OptionGroup var filter: Filter

        @Option(help: "At most this many (1-10000).")
        var limit: Int = 100

        func run() async throws {
            let query = RelayAPI.query(filter.fields + [("limit", String(limit) as String?)])
            let answer = try await relay.withAPI { try await $0.call(.GET, "/v1/dead-letters" + query) }
            let letters = answer["dead_letters"] as? [[String: Any]] ?? []
            guard !letters.isEmpty else {
                print("no dead letters")
                return
            }
            let rows = letters.map { letter in
                [
                    "\(letter["id"] as? Int ?? 0)", letter["bot"] as? String ?? "", letter["chat_id"] as? String ?? "",
                    letter["updated_at"] as? String ?? "", "\(letter["attempts"] as? Int ?? 0)", letter["last_error"] as? String ?? "",
                ]
            }
            print(TextTable.render(["ID", "BOT", "CHAT", "FAILED AT", "ATTEMPTS", "REASON"], rows))
        }
    }

    struct Replay: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Queue dead letters again, at the end of their chats' queues, with a fresh attempt budget.",
            discussion: """
                Name ids, or select with --all and optional filters.

                Examples:
                  tgrelay dlq replay 1042
                  tgrelay dlq replay --all --reason "Too Many Requests"
                """
        )

        @OptionGroup var relay: RelayAddress
        @OptionGroup var selection: Selection

        func run() async throws {
            try await relay.withAPI { api in
                if selection.all {
                    let answer = try await api.call(.POST, "/v1/dead-letters/replay" + RelayAPI.query(selection.filter.fields))
                    print("replayed \(answer["replayed"] as? Int ?? 0) dead letters")
                    return
                }
                for id in selection.ids {
                    let message = try await api.call(.POST, "/v1/dead-letters/\(id)/replay")
                    print("message \(id): \(message["status"] as? String ?? "?")")
                }
            }
        }
    }

    struct Purge: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete dead letters for good (their attempts stay in the ledger).",
            discussion: """
                Name ids, or select with --all and optional filters; --all without filters purges every
                dead letter.

                Examples:
                  tgrelay dlq purge 1042 1043
                  tgrelay dlq purge --all --bot newsletter --reason "bot was blocked"
                """
        )

        @OptionGroup var relay: RelayAddress
        @OptionGroup var selection: Selection

        func run() async throws {
            try await relay.withAPI { api in
                if selection.all {
                    let filter = selection.filter
                    let fields: [(String, String?)] = filter.isEmpty ? [("all", "true")] : filter.fields
                    let answer = try await api.call(.POST, "/v1/dead-letters/purge" + RelayAPI.query(fields))
                    print("purged \(answer["purged"] as? Int ?? 0) dead letters")
                    return
                }
                for id in selection.ids {
                    try await api.call(.DELETE, "/v1/dead-letters/\(id)")
                    print("message \(id): purged")
                }
            }
        }
    }

    /// Ids, or `--all` with optional filters: what replay and purge act on.
    struct Selection: ParsableArguments {
        @OptionGroup var filter: Filter

        @Flag(help: "Every dead letter the filters select (all of them without filters).")
        var all = false

        @Argument(help: "Ids of dead letters.")
        var ids: [Int64] = []

        func validate() throws {
            if all, !ids.isEmpty { throw ValidationError("give ids or --all, not both") }
            if !all, ids.isEmpty { throw ValidationError("give the ids of dead letters, or --all (with optional --bot/--chat/--reason)") }
            if !all, !filter.isEmpty { throw ValidationError("--bot, --chat and --reason select with --all only") }
        }
    }
}
