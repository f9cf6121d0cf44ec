import ArgumentParser
import Foundation
import TGRelayCore
import TGRelayServer
import TGRelayStore

struct LedgerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ledger",
        abstract: "Inspect the audit ledger of every delivery attempt: export, verify, prune.",
        discussion: """
            The ledger records every attempt to send a message (time, chat, payload hash, Telegram's answer),
            each row chained to the previous one by a SHA-256 hash so that an edited or deleted row is
            detected. These commands read the store directly (TGRELAY_DATABASE or --database); they are
            safe while the relay runs.

            Examples:
              tgrelay ledger export --since 2026-11-01T00:00:00Z > november.jsonl
              tgrelay ledger verify
              tgrelay ledger prune --older-than 90d
            """,
        subcommands: [Export.self, Verify.self, Prune.self]
    )

    /// The store option every ledger command shares.
    struct StoreOption: ParsableArguments {
        @Option(help: "The store, e.g. sqlite:/var/lib/tgrelay/tgrelay.sqlite (default: TGRELAY_DATABASE or sqlite:tgrelay.sqlite).")
        var database: String?

        func open() async throws -> any MessageStore {
            var configuration = try await RelayConfiguration.load()
            if let database { configuration.database = database }
            return try await makeStore(configuration.storeConfiguration())
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write ledger rows as JSON Lines (one object per attempt), oldest first.",
            discussion: """
                Rows have the same fields as GET /v1/ledger/export: seq, at, message_id, bot, chat_id, method,
                payload_sha256, endpoint, http_status, ok, outcome, description, duration_ms, prev_hash, hash, ...
                A progress bar is shown on stderr when the export takes more than a second.

                Examples:
                  tgrelay ledger export --output ledger.jsonl
                  tgrelay ledger export --chat 42 --since 2026-11-20T00:00:00Z | jq .outcome
                """
        )

        @OptionGroup var store: StoreOption

        @Option(help: "Only this bot.")
        var bot: String?

        @Option(parsing: .unconditional, help: "Only this chat (id, negative for groups, or @username).")
        var chat: String?

        @Option(help: "Only attempts of this message id.")
        var message: Int64?

        @Option(help: "Only rows at or after this time (ISO 8601, e.g. 2026-11-20T00:00:00Z).")
        var since: String?

        @Option(help: "Only rows before this time (ISO 8601).")
        var until: String?

        @Option(help: "Write to this file instead of stdout.")
        var output: String?

        func run() async throws {
            let store = try await store.open()
            let sinceDate = try since.map { try Self.date($0, option: "--since") }
            let untilDate = try until.map { try Self.date($0, option: "--until") }
            var query = LedgerQuery(
                messageID: message, chat: chat.map { ChatReference.canonical($0) ?? $0 }, bot: bot, since: sinceDate,
                until: untilDate, limit: 1000)
            let out: FileHandle
            if let output {
                guard FileManager.default.createFile(atPath: output, contents: nil) else {
                    throw ValidationError("--output: cannot create \(output)")
                }
                out = try FileHandle(forWritingTo: URL(fileURLWithPath: output))
            } else {
                out = .standardOutput
            }
            // Progress by time: rows come in seq order, which is time order, between the first row and the end.
            let end = untilDate ?? Date()
            var progress = ProgressBar("exporting")
            var start: Date?
            var rows = 0
            while true {
                let page = try await store.ledger(query)
                var chunk: [UInt8] = []
                for entry in page { chunk += LedgerExport.line(entry) }
                out.write(Data(chunk))
                rows += page.count
                if let last = page.last {
                    let first = start ?? page[0].at
                    start = first
                    progress.update(last.at.timeIntervalSince(first) / max(1, end.timeIntervalSince(first)), detail: "\(rows) rows")
                }
                guard page.count == query.limit, let last = page.last else { break }
                query.afterSeq = last.seq
            }
            progress.finish(detail: "\(rows) rows")
            try await store.close()
            if output != nil {
                try out.synchronize()
                print("exported \(rows) ledger rows")
            }
        }

        static func date(_ text: String, option: String) throws -> Date {
            for style in [Date.ISO8601FormatStyle(), Date.ISO8601FormatStyle(includingFractionalSeconds: true)] {
                if let date = try? style.parse(text) { return date }
            }
            throw ValidationError("\(option): expected an ISO 8601 time such as 2026-11-20T00:00:00Z, got \(text)")
        }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check the ledger's hash chain and name the first edited, deleted or reordered row.",
            discussion: """
                Reads the store named by TGRELAY_DATABASE (or --database) directly; safe while the relay runs.
                Exits 0 when the chain is intact, 1 when it is broken.

                Example:
                  tgrelay ledger verify --database sqlite:/var/lib/tgrelay/tgrelay.sqlite
                """
        )

        @OptionGroup var store: StoreOption

        func run() async throws {
            let store = try await store.open()
            let result = try await store.verifyLedger()
            try await store.close()
            switch result {
            case .valid(let rows):
                print("ledger intact: \(rows) rows verified")
            case .broken(let seq, let reason):
                print("ledger BROKEN at row \(seq): \(reason)")
                throw ExitCode(1)
            }
        }
    }

    struct Prune: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete ledger rows older than an age, keeping the rest verifiable.",
            discussion: """
                The relay does this by itself every hour for rows older than retention.days (default 90);
                this command is for doing it now or with another age. Before deleting, the rows are verified;
                the hash of the last deleted row becomes the chain's anchor, so `tgrelay ledger verify` still
                checks everything that remains. Nothing is deleted if the rows do not verify (exit 1).
                Long runs delete in steps and show a progress bar on stderr.

                Examples:
                  tgrelay ledger prune --older-than 90d
                  tgrelay ledger prune --older-than 12h --database sqlite:/var/lib/tgrelay/tgrelay.sqlite
                """
        )

        @OptionGroup var store: StoreOption

        @Option(help: "Age of the rows to delete: a number with d (days), h (hours), m (minutes) or s (seconds), e.g. 90d.")
        var olderThan: String

        func run() async throws {
            let age = try Self.seconds(olderThan)
            let store = try await store.open()
            let cutoff = Date().addingTimeInterval(-age)
            guard let oldest = try await store.ledger(LedgerQuery(limit: 1)).first?.at, oldest < cutoff else {
                try await store.close()
                print("nothing to prune: no ledger row is older than \(olderThan)")
                return
            }
            // One step per day of the span (at most 100 steps): each deletes and re-anchors a slice, so a huge
            // backlog never holds the writer for long and the bar moves.
            let span = cutoff.timeIntervalSince(oldest)
            let steps = max(1, min(100, Int(span / 86_400)))
            var progress = ProgressBar("pruning")
            var deleted = 0
            do {
                for step in 1...steps {
                    let until = step == steps ? cutoff : oldest.addingTimeInterval(span * Double(step) / Double(steps))
                    deleted += try await store.pruneLedger(before: until)
                    progress.update(Double(step) / Double(steps), detail: "\(deleted) rows")
                }
            } catch let error as StoreError where error.code == .ledgerBroken {
                progress.finish(detail: "\(deleted) rows")
                try await store.close()
                print("ledger BROKEN before the cutoff: nothing more was pruned (\(deleted) rows pruned before it); run `tgrelay ledger verify`")
                throw ExitCode(1)
            }
            progress.finish(detail: "\(deleted) rows")
            try await store.close()
            print("pruned \(deleted) ledger rows older than \(olderThan)")
        }

        /// "90d", "12h", "30m", "45s" (or plain seconds).
        static func seconds(_ text: String) throws -> TimeInterval {
            let units: [Character: Double] = ["d": 86_400, "h": 3600, "m": 60, "s": 1]
            let unit = text.last.flatMap { units[$0] }
            guard let number = Double(unit == nil ? text : String(text.dropLast())), number >= 0 else {
                throw ValidationError("--older-than: expected an age such as 90d, 12h, 30m or 45s, got \(text)")
            }
            return number * (unit ?? 1)
        }
    }
}
