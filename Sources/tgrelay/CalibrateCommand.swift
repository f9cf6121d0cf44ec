import ArgumentParser
import AsyncHTTPClient
import Foundation
import TGRelayServer
import TelegramBotAPI

/// `tgrelay calibrate`: finds the rate Telegram actually grants a bot and writes 80 % of it into the config.
struct CalibrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calibrate",
        abstract: "Measure the highest send rate Telegram allows a bot and save 80 % of it as its limit.",
        discussion: """
            Sends test messages straight to the Bot API (not through the relay), spread over test chats,
            starting at 1 message/s and raising the rate step by step (each held for --hold seconds) until
            Telegram first answers 429 (retry_after). The highest rate that went through without one is
            reported, and 80 % of it is written to the configuration file as the bot's per_second
            (bot.per_second for the bot named "default", bot.<name>.per_second otherwise), leaving headroom.

            Use a test bot, or stop the relay for this bot first: both would share Telegram's limits.
            The test chats must be private chats (users who have started the bot); at most one message per
            second goes to each, so give at least twice as many chats as the rate you expect (e.g. 60 for a
            30 msg/s bot). The token and Bot API URL come from the relay's configuration (TGRELAY_BOT_TOKEN,
            TGRELAY_CONFIG, TGRELAY_TELEGRAM_API).

            Example:
              TGRELAY_CONFIG=/etc/tgrelay.json tgrelay calibrate --chats 1001-1060
              tgrelay calibrate --bot alerts --chats 5551,5552,5553,5554 --hold 10 --dry-run
            """
    )

    @Option(help: "Configured bot to measure.")
    var bot: String = "default"

    @Option(help: "Test chats: a range (1001-1060) or comma-separated ids.")
    var chats: String

    @Option(help: "Seconds each rate is held.")
    var hold: Double = 5

    @Option(help: "Each step multiplies the rate by this (at least +1 msg/s).")
    var step: Double = 1.25

    @Option(help: "Stop raising at this rate (msg/s); Telegram allows up to 1000 with paid broadcasts.")
    var max: Double = 1000

    @Option(help: "Configuration file to update (default: TGRELAY_CONFIG).")
    var config: String?

    @Flag(help: "Report only; do not write the configuration file.")
    var dryRun = false

    func validate() throws {
        guard hold >= 1 else { throw ValidationError("--hold must be at least 1 second") }
        guard step > 1 else { throw ValidationError("--step must be more than 1") }
        _ = try Self.chatIDs(chats)
    }

    func run() async throws {
        let configuration = try await RelayConfiguration.load()
        guard let target = configuration.bot(named: bot) else {
            throw ValidationError("no bot named \(bot) is configured (set TGRELAY_BOT_TOKEN or bot.\(bot).token)")
        }
        let file = config ?? ProcessInfo.processInfo.environment["TGRELAY_CONFIG"]
        if !dryRun, file == nil { throw ValidationError("name the configuration file with --config or TGRELAY_CONFIG (or use --dry-run)") }
        let chatIDs = try Self.chatIDs(chats)
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        let probe = RateProbe(
            client: BotAPIClient(httpClient: http), endpoint: configuration.telegramEndpoints[0], token: target.token, chats: chatIDs)
        let sustained: Double
        do {
            sustained = try await ramp(probe, chatCount: chatIDs.count)
            try await http.shutdown()
        } catch {
            try? await http.shutdown()
            throw error
        }
        guard sustained > 0 else { throw ValidationError("even 1 message/s was refused; nothing written") }
        let limit = (sustained * 8).rounded(.down) / 10  // 80 %, to 0.1 msg/s below
        print("highest sustained rate: \(Self.format(sustained)) msg/s; recommended per_second: \(Self.format(limit))")
        guard !dryRun, let file else { return }
        let key = try CalibrationConfigFile.write(perSecond: limit, bot: bot, path: file)
        print("wrote \(key) = \(Self.format(limit)) to \(file); restart the relay to apply it")
    }

    /// Raises the rate until the first 429; returns the last rate that passed (0 if none).
    private func ramp(_ probe: RateProbe, chatCount: Int) async throws -> Double {
        var rate = 1.0
        var passed = 0.0
        while rate <= max {
            // One message per second per private chat at most, with room for timer jitter.
            guard rate * 2 <= Double(chatCount) else {
                print("stopping at \(Self.format(passed)) msg/s: \(Self.format(rate)) msg/s needs at least \(Int(rate * 2)) test chats")
                break
            }
            let result = try await probe.run(rate: rate, seconds: hold)
            if let retryAfter = result.retryAfter {
                print("\(Self.format(rate)) msg/s: 429 after \(result.sent) messages (retry_after \(retryAfter) s)")
                return passed
            }
            print("\(Self.format(rate)) msg/s: ok (\(result.sent) messages)")
            passed = rate
            rate = Swift.max(rate + 1, (rate * step).rounded(.up))
        }
        return Swift.min(passed, max)
    }

    static func chatIDs(_ text: String) throws -> [Int64] {
        let invalid = ValidationError("--chats: expected a range such as 1001-1060 or ids such as 1001,1002, got \(text)")
        let parts = text.split(separator: "-", maxSplits: 1)
        if parts.count == 2, !text.contains(","), let low = Int64(parts[0]), let high = Int64(parts[1]), low > 0, low <= high {
            return Array(low...high)
        }
        let ids = try text.split(separator: ",").map { part in
            guard let id = Int64(part.trimmingCharacters(in: .whitespaces)), id > 0 else { throw invalid }
            return id
        }
        guard !ids.isEmpty else { throw invalid }
        return ids
    }

    static func format(_ rate: Double) -> String {
        rate == rate.rounded() ? String(Int(rate)) : String(format: "%.1f", rate)
    }
}

/// Sends at a fixed rate for a while, round-robin over the test chats, and notes the first 429.
struct RateProbe {
    let client: BotAPIClient
    let endpoint: String
    let token: String
    let chats: [Int64]

    struct Result {
        var sent: Int
        var retryAfter: Int?
    }

    func run(rate: Double, seconds: Double) async throws -> Result {
        let count = Int((rate * seconds).rounded())
        let start = ContinuousClock.now
        let interval = Duration.seconds(1 / rate)
        let answers = await withTaskGroup(of: BotAPIResponse.self) { group in
            for index in 0..<count {
                try? await Task.sleep(until: start + interval * index)
                let body = #"{"chat_id":\#(chats[index % chats.count]),"text":"tgrelay calibration \#(index + 1)/\#(count) at \#(Int(rate)) msg/s","disable_notification":true}"#
                group.addTask {
                    await client.call(endpoint: endpoint, token: token, method: "sendMessage", json: Array(body.utf8), timeout: .seconds(15))
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        var result = Result(sent: 0)
        for answer in answers {
            guard case .answer(let status, let bytes) = answer else {
                throw ValidationError("a request got no answer from the Bot API; calibration needs a working connection")
            }
            let object = (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any] ?? [:]
            if status == 429 {
                let retryAfter = ((object["parameters"] as? [String: Any])?["retry_after"] as? NSNumber)?.intValue ?? 1
                result.retryAfter = Swift.max(result.retryAfter ?? 0, retryAfter)
            } else if status == 200 {
                result.sent += 1
            } else {
                let description = object["description"] as? String ?? "HTTP \(status)"
                throw ValidationError("Telegram refused a test message: \(description) (are the test chats users who started the bot?)")
            }
        }
        return result
    }
}

/// Writes a bot's `per_second` into the JSON configuration file, keeping everything else in it.
enum CalibrationConfigFile {
    /// Returns the key written (`bot.per_second` or `bot.<name>.per_second`).
    static func write(perSecond: Double, bot: String, path: String) throws -> String {
        var root: [String: Any] = [:]
        if let data = FileManager.default.contents(atPath: path), !data.isEmpty {
            guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
                throw ValidationError("\(path) is not a JSON object; nothing written")
            }
            root = object
        }
        var section = root["bot"] as? [String: Any] ?? [:]
        if bot == "default" {
            section["per_second"] = perSecond
        } else {
            var named = section[bot] as? [String: Any] ?? [:]
            named["per_second"] = perSecond
            section[bot] = named
        }
        root["bot"] = section
        let data = try JSONSerialization.data(withJSONObject: root, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        // Written beside and renamed over, so a crash never leaves half a configuration; the file holds
        // tokens, so it keeps its permissions (owner-only for a new one).
        let temporary = path + ".calibrate.tmp"
        let permissions = (try? FileManager.default.attributesOfItem(atPath: path)[.posixPermissions]) ?? 0o600
        guard FileManager.default.createFile(atPath: temporary, contents: data, attributes: [.posixPermissions: permissions]),
            rename(temporary, path) == 0
        else {
            try? FileManager.default.removeItem(atPath: temporary)
            throw ValidationError("cannot write \(path); nothing written")
        }
        return bot == "default" ? "bot.per_second" : "bot.\(bot).per_second"
    }
}
