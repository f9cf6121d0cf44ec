import Foundation
import Testing
import TGRelayServer

/// The command line tools' progress bar, on a controlled clock.
struct ProgressBarTests {
    final class Recorder: @unchecked Sendable {
        var clock = Date(timeIntervalSince1970: 1_000)
        var written: [String] = []
    }

    private func bar(_ recorder: Recorder) -> ProgressBar {
        ProgressBar("exporting", now: { recorder.clock }, write: { recorder.written.append($0) })
    }

    @Test func shortRunsPrintNothing() {
        let recorder = Recorder()
        var progress = bar(recorder)
        for step in 1...9 {
            recorder.clock += 0.1
            progress.update(Double(step) / 10, detail: "\(step) rows")
        }
        progress.finish(detail: "9 rows")
        #expect(recorder.written.isEmpty)
    }

    @Test func longRunsDrawAtMostTenTimesASecondAndEndComplete() {
        let recorder = Recorder()
        var progress = bar(recorder)
        // 3 s of updates every 10 ms: drawn from the first second on, every 0.1 s.
        for step in 1...300 {
            recorder.clock += 0.01
            progress.update(Double(step) / 400, detail: "\(step * 10) rows")
        }
        #expect((19...21).contains(recorder.written.count), "\(recorder.written.count) draws")
        let first = recorder.written.first ?? ""
        #expect(first.hasPrefix("\rexporting [#######.......................] 25% 10") && first.hasSuffix(" rows 1s"), "\(first)")
        recorder.clock = Date(timeIntervalSince1970: 1_003)
        progress.finish(detail: "3000 rows")
        #expect(recorder.written.suffix(2) == ["\rexporting [##############################] 100% 3000 rows 3s", "\n"])
    }
}
