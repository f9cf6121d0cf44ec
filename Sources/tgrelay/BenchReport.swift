import ArgumentParser
import Foundation

/// One bench's results: printed as a table, and optionally written into a Markdown file as a section
/// that a later run of the same scenario replaces.
struct BenchReport {
    struct Row {
        var measure: String
        var result: String
        var target: String = ""
        /// nil for figures without a target.
        var met: Bool? = nil
    }

    let scenario: String
    let title: String
    /// The exact command line, as someone would type it from the package folder.
    let command: String
    let machine = ProcStats.machineDescription()
    let date = ISO8601DateFormatter().string(from: Date())
    /// Which code was (most likely) measured: figures move with every change to the relay. Read when the
    /// bench runs, so it names the binary's code only if it was built from this state.
    let revision = Self.gitRevision()
    /// Load average when the run began: figures from a busy shared machine read lower.
    var loadBefore: String
    var rows: [Row] = []
    /// Method and observations, one paragraph each.
    var notes: [String] = []

    init(scenario: String, title: String) {
        self.scenario = scenario
        self.title = title
        self.command = Self.commandLine()
        self.loadBefore = ProcStats.loadAverage()
    }

    mutating func add(_ measure: String, _ result: String, target: String = "", met: Bool? = nil) {
        rows.append(Row(measure: measure, result: result, target: target, met: met))
    }

    var missedTargets: [Row] { rows.filter { $0.met == false } }

    func printTable() {
        let widths = [
            max(7, rows.map(\.measure.count).max() ?? 0), max(6, rows.map(\.result.count).max() ?? 0),
            max(6, rows.map(\.target.count).max() ?? 0),
        ]
        func line(_ cells: [String]) -> String {
            zip(cells, widths + [4]).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: "  ")
        }
        say("")
        say("== \(title) ==")
        say(line(["measure", "result", "target", "met"]))
        for row in rows {
            say(line([row.measure, row.result, row.target, row.met.map { $0 ? "yes" : "NO" } ?? ""]))
        }
        for missed in missedTargets {
            say("TARGET MISSED: \(missed.measure) = \(missed.result) (target \(missed.target))")
        }
    }

    var markdown: String {
        var text = "## \(title)\n\n"
        text += "Command: `\(command)`  \n"
        text += "Machine: \(machine); load average before the run: \(loadBefore)  \n"
        text += "Date: \(date)" + (revision.map { "; repository at run time: \($0)" } ?? "") + "\n\n"
        text += "| measure | result | target | met |\n|---|---|---|---|\n"
        for row in rows {
            let met = row.met.map { $0 ? "yes" : "**no**" } ?? ""
            text += "| \(row.measure) | \(row.result) | \(row.target) | \(met) |\n"
        }
        for note in notes { text += "\n" + note + "\n" }
        return text
    }

    /// Replaces this scenario's section of `path` (between its markers) or appends it.
    func record(into path: String) throws {
        let begin = "<!-- bench:\(scenario) begin -->"
        let end = "<!-- bench:\(scenario) end -->"
        let section = begin + "\n" + markdown + end
        var document = (try? String(contentsOfFile: path, encoding: .utf8)) ?? "# Benchmarks\n"
        if let start = document.range(of: begin), let stop = document.range(of: end, range: start.upperBound..<document.endIndex) {
            document.replaceSubrange(start.lowerBound..<stop.upperBound, with: section)
        } else {
            if !document.hasSuffix("\n") { document += "\n" }
            document += "\n" + section + "\n"
        }
        try document.write(toFile: path, atomically: true, encoding: .utf8)
        say("recorded in \(path)")
    }

    /// "commit abc1234" (plus "with uncommitted changes") when run inside the repository, else nil.
    private static func gitRevision() -> String? {
        func git(_ arguments: [String]) -> String? {
            guard let path = ProcStats.which("git"), let (status, output) = try? ProcStats.run(path, arguments), status == 0 else { return nil }
            return output.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        guard let commit = git(["rev-parse", "--short", "HEAD"]) else { return nil }
        let dirty = git(["status", "--porcelain", "--untracked-files=no", "--", "Sources", "Package.swift"]).map { !$0.isEmpty } ?? false
        return "commit \(commit)" + (dirty ? " with uncommitted changes in Sources/ or Package.swift" : "")
    }

    /// argv as typed: the binary relative to the current folder when it lies inside it.
    private static func commandLine() -> String {
        var arguments = CommandLine.arguments
        let cwd = FileManager.default.currentDirectoryPath + "/"
        if arguments[0].hasPrefix(cwd) { arguments[0] = String(arguments[0].dropFirst(cwd.count)) }
        if !arguments[0].contains("/") { arguments[0] = "tgrelay" }
        return arguments.map { $0.contains(" ") ? "'\($0)'" : $0 }.joined(separator: " ")
    }
}

/// Number formatting for the tables.
enum Fmt {
    static func int(_ value: Double) -> String {
        let formatter = NumberFormatter()
        formatter.numberStyle = .decimal
        formatter.maximumFractionDigits = 0
        formatter.groupingSeparator = ","
        formatter.usesGroupingSeparator = true
        return formatter.string(from: NSNumber(value: value.rounded())) ?? String(Int(value))
    }

    static func fixed(_ value: Double, _ digits: Int = 1) -> String { String(format: "%.\(digits)f", value) }

    /// Milliseconds from nanoseconds.
    static func ms(_ nanoseconds: UInt64) -> String { String(format: "%.2f ms", Double(nanoseconds) / 1e6) }

    static func mib(_ bytes: Int) -> String { String(format: "%.1f MiB", Double(bytes) / Double(1 << 20)) }

    static func percent(_ ratio: Double) -> String { String(format: "%.1f %%", ratio * 100) }
}

/// Options every scenario takes.
struct BenchCommonOptions: ParsableArguments {
    @Option(name: .customLong("record"), help: ArgumentHelp("Also write the results into this Markdown file, replacing the scenario's previous section (e.g. docs/benchmarks.md).", valueName: "file"))
    var recordPath: String?

    @Flag(help: "Keep the temporary folder (relay database and relay.log) instead of deleting it.")
    var keepTemp = false

    @Option(help: "Log level of the relay child process (its log goes to relay.log in the temporary folder).")
    var relayLogLevel: String = "info"

    @Option(help: ArgumentHelp("The relay's store: an empty PostgreSQL database (postgres://…) instead of a fresh SQLite file in the temporary folder.", valueName: "url"))
    var database: String?

    func finish(_ report: BenchReport) throws {
        report.printTable()
        if let recordPath { try report.record(into: recordPath) }
    }
}
