import Foundation
import Testing

/// `tgrelay bench peers` in its quick form for tgrelay alone (the peer needs Python and PyPI): the
/// side-by-side bench's own code — workload, crash-free broadcast run, analysis, report and chart —
/// runs with every test run. Its figures are not checked against targets here (that is the bench's
/// job); only that the run delivered everything and wrote its section and chart.
@Suite(.serialized)
struct BenchPeersSmokeTests {
    @Test func quickBroadcastRunDeliversEverythingAndRecordsIt() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bench-peers-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let record = directory.appendingPathComponent("benchmarks.md").path

        let process = Process()
        process.executableURL = URL(fileURLWithPath: RelayProcess.binary)
        process.arguments = [
            "bench", "peers", "--scale", "0.1", "--scenarios", "broadcast", "--without-peer", "--accept-seconds", "0", "--record", record,
        ]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()

        #expect(process.terminationStatus == 0, "\(text)")
        let markdown = try String(contentsOfFile: record, encoding: .utf8)
        // 0.1 × (3,000 private + 3 × 200 group messages).
        #expect(markdown.contains("| 1. broadcast: delivered / lost / duplicated (of 360) | 360 / 0 / 0 | — |"), "\(markdown)")
        #expect(markdown.contains("| 1. broadcast: order violations (per chat) | 0 | — |"))
        #expect(markdown.contains("<!-- bench:peers begin -->"))
        let chart = try String(contentsOfFile: directory.appendingPathComponent("benchmarks-peers.svg").path, encoding: .utf8)
        #expect(chart.hasPrefix("<svg") && chart.contains("100.0 %"))
    }
}
