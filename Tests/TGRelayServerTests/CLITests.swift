import FakeTelegram
import Foundation
import Testing

@testable import TGRelayServer

/// The operator commands run as the real binary against a real relay and the Bot API simulator.
@Suite(.serialized)
struct CLITests {
    static let key = "ops-CLI-Key-90ab-SECRET"

    /// Runs `tgrelay <arguments>` with only the given environment (plus PATH).
    static func tgrelay(_ arguments: [String], environment: [String: String] = [:]) throws -> ProcessResult {
        var environment = environment
        environment["PATH"] = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return try runProcess(RelayProcess.binary, arguments, environment: environment)
    }

    /// Walks the whole command tree from `tgrelay --help`, so a command added later is checked too.
    @Test func everyCommandExplainsItselfWithAnExample() throws {
        var pending: [[String]] = [[]]
        var seen: [[String]] = []
        while let command = pending.popLast() {
            let result = try Self.tgrelay(command + ["--help"])
            #expect(result.status == 0, "\(command)")
            #expect(result.output.contains("Example"), "tgrelay \(command.joined(separator: " ")) --help has no example:\n\(result.output)")
            seen.append(command)
            pending += Self.subcommands(in: result.output).map { command + [$0] }
        }
        for expected in [["migrate"], ["dlq", "purge"], ["ledger", "verify"], ["calibrate"], ["webhook", "set"], ["bench", "peers"]] {
            #expect(seen.contains(expected), "\(expected) was not found in the help tree")
        }
    }

    @Test func migrateCreatesTheSchemaAndIsHarmlessToRepeat() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("fresh.sqlite").path
        for _ in 0..<2 {
            let result = try Self.tgrelay(["migrate", "--database", "sqlite:" + path])
            #expect(result.status == 0 && result.output.contains("schema up to date"), "\(result.output)")
        }
        #expect(FileManager.default.fileExists(atPath: path))
        let verify = try Self.tgrelay(["ledger", "verify", "--database", "sqlite:" + path])
        #expect(verify.status == 0 && verify.output.contains("ledger intact: 0 rows"), "\(verify.output)")
        let bad = try Self.tgrelay(["migrate", "--database", "mysql://nope"])
        #expect(bad.status != 0 && bad.output.contains("TGRELAY_DATABASE"), "\(bad.output)")
    }

    /// The names listed under SUBCOMMANDS in ArgumentParser's help (two spaces in, then the name).
    static func subcommands(in help: String) -> [String] {
        guard let section = help.range(of: "SUBCOMMANDS:\n") else { return [] }
        return help[section.upperBound...].split(separator: "\n").compactMap { line in
            guard line.hasPrefix("  "), !line.hasPrefix("   "), let name = line.split(separator: " ").first, !name.hasPrefix("See") else { return nil }
            return String(name)
        }
    }

    @Test func sendStatusAndDeadLettersThroughTheRESTAPI() async throws {
        let bed = try await TestBed.rest(environment: ["TGRELAY_API_KEY": Self.key])
        defer { Task { try await bed.shutdown() } }
        let env = ["TGRELAY_URL": bed.relay.baseURL, "TGRELAY_API_KEY": Self.key]

        let sent = try Self.tgrelay(["send", "--chat", "42", "--text", "from the CLI", "--wait"], environment: env)
        #expect(sent.status == 0, "\(sent.output)")
        #expect(sent.output.contains("delivered (Telegram message_id"), "\(sent.output)")
        #expect(bed.deliveredTexts(chat: "42") == ["from the CLI"])

        let refused = try Self.tgrelay(["status"], environment: ["TGRELAY_URL": bed.relay.baseURL])
        #expect(refused.status != 0)
        #expect(refused.output.contains("TGRELAY_API_KEY"), "\(refused.output)")

        var notFound = FakeFault(kind: .chatNotFound)
        notFound.chat = "-4040"
        let fault = try bed.telegram.addFault(notFound)
        for text in ["one", "two", "three"] {
            let result = try Self.tgrelay(["send", "--chat", "-4040", "--text", text, "--wait"], environment: env)
            #expect(result.status == 1 && result.output.contains("failed: Bad Request: chat not found"), "\(result.output)")
        }
        let status = try Self.tgrelay(["status"], environment: env)
        #expect(status.status == 0)
        let row = try #require(status.output.split(separator: "\n").first { $0.hasPrefix("default") }, "\(status.output)")
        #expect(row.split(separator: " ", omittingEmptySubsequences: true).map(String.init).prefix(6) == ["default", "0", "-", "1", "3", "0"], "\(status.output)")
        #expect(status.output.contains("BOT") && row.hasSuffix("ok"), "\(status.output)")

        let list = try Self.tgrelay(["dlq", "list", "--reason", "chat not found"], environment: env)
        #expect(list.status == 0)
        let ids = list.output.split(separator: "\n").dropFirst().compactMap { Int($0.prefix { $0 != " " }) }
        try #require(ids.count == 3, "\(list.output)")

        bed.telegram.removeFault(id: fault)
        let replay = try Self.tgrelay(["dlq", "replay", String(ids[0])], environment: env)
        #expect(replay.status == 0 && replay.output.contains("queued"), "\(replay.output)")
        #expect(try await eventually(timeout: .seconds(10)) {
            try await bed.http.json(.GET, bed.api + "/messages/\(ids[0])", headers: ["Authorization": "Bearer \(Self.key)"])["status"] as? String == "delivered"
        })

        let refusedPurge = try Self.tgrelay(["dlq", "purge"], environment: env)
        #expect(refusedPurge.status != 0 && refusedPurge.output.contains("--all"), "\(refusedPurge.output)")
        let purged = try Self.tgrelay(["dlq", "purge", "--all", "--reason", "chat not found"], environment: env)
        #expect(purged.status == 0 && purged.output.contains("purged 2 dead letters"), "\(purged.output)")
        #expect(try Self.tgrelay(["dlq", "list"], environment: env).output.contains("no dead letters"))
        #expect(try await bed.http.json(.GET, bed.api + "/messages/\(ids[1])", headers: ["Authorization": "Bearer \(Self.key)"]).status == 404)

        // The ledger straight from the store while the relay runs: export, prune, verify.
        let database = "sqlite:" + bed.relay.databasePath
        let file = bed.directory.appendingPathComponent("ledger.jsonl").path
        let export = try Self.tgrelay(["ledger", "export", "--database", database, "--output", file])
        #expect(export.status == 0, "\(export.output)")
        let lines = try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 5, "one row per attempt: 1 + 3 + 1")
        let rows = lines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(rows.count == 5 && rows.allSatisfy { ($0["hash"] as? String)?.count == 64 })
        #expect(rows.map { $0["outcome"] as? String } == ["delivered", "rejected", "rejected", "rejected", "delivered"])
        let chatOnly = try Self.tgrelay(["ledger", "export", "--database", database, "--chat", "42"])
        #expect(chatOnly.output.split(separator: "\n").count == 1, "\(chatOnly.output)")

        let prune = try Self.tgrelay(["ledger", "prune", "--database", database, "--older-than", "0s"])
        #expect(prune.status == 0 && prune.output.contains("pruned 5 ledger rows"), "\(prune.output)")
        let verify = try Self.tgrelay(["ledger", "verify", "--database", database])
        #expect(verify.status == 0 && verify.output.contains("ledger intact: 0 rows"), "\(verify.output)")
        let badAge = try Self.tgrelay(["ledger", "prune", "--database", database, "--older-than", "ninety days"])
        #expect(badAge.status != 0 && badAge.output.contains("--older-than"), "\(badAge.output)")
    }

    @Test func calibrateFindsTheSimulatorsBotLimitAndWritesEightyPercent() async throws {
        let telegram = FakeTelegram(configuration: FakeTelegramConfiguration())
        _ = try await telegram.start()
        defer { Task { await telegram.stop() } }
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = directory.appendingPathComponent("config.json").path
        try Data(#"{"api": {"key": "keep-me"}}"#.utf8).write(to: URL(fileURLWithPath: config))
        let env = ["TGRELAY_BOT_TOKEN": TestBed.token, "TGRELAY_TELEGRAM_API": telegram.baseURL, "TGRELAY_CONFIG": config]

        let result = try Self.tgrelay(["calibrate", "--chats", "1001-1100", "--hold", "2", "--step", "1.5"], environment: env)
        #expect(result.status == 0, "\(result.output)")
        // The ramp is 1, 2, 3, 5, 8, 12, 18, 27, 41 msg/s; the simulator allows 30/s, so 41 draws the first 429
        // (27 may, when a loaded machine delays sends and they bunch up).
        let summary = try #require(result.output.firstMatch(of: /highest sustained rate: (\d+) msg\/s; recommended per_second: ([\d.]+)/), "\(result.output)")
        let sustained = try #require(Double(summary.1))
        let recommended = try #require(Double(summary.2))
        #expect([18, 27].contains(sustained), "\(result.output)")
        #expect(result.output.contains("\(Int(sustained)) msg/s: ok") && result.output.contains(": 429 after"), "\(result.output)")
        #expect(recommended == (sustained * 8).rounded(.down) / 10)

        let written = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: config))) as? [String: Any])
        #expect((written["api"] as? [String: Any])?["key"] as? String == "keep-me", "the rest of the file is kept")
        #expect((written["bot"] as? [String: Any])?["per_second"] as? Double == recommended)
        // The relay reads it back as the default bot's rate.
        let loaded = try await RelayConfiguration.load(environment: ["TGRELAY_BOT_TOKEN": TestBed.token, "TGRELAY_CONFIG": config])
        #expect(loaded.bot(named: "default")?.perSecond == recommended)
        #expect(!result.output.contains(TestBed.token))
    }
}
