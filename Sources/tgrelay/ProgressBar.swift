import Foundation

/// A one-line progress bar on stderr for long runs: it appears only after a second (short runs print
/// nothing extra), redraws at most ten times a second, and stays out of stdout so exports can be piped.
struct ProgressBar {
    let label: String
    private let started = Date()
    private var lastDraw = Date.distantPast
    private var shown = false
    private let width = 30

    init(_ label: String) {
        self.label = label
    }

    /// `fraction` in 0...1; `detail` such as "12,345 rows".
    mutating func update(_ fraction: Double, detail: String) {
        let now = Date()
        guard now.timeIntervalSince(started) >= 1, now.timeIntervalSince(lastDraw) >= 0.1 else { return }
        lastDraw = now
        shown = true
        draw(fraction, detail: detail, elapsed: now.timeIntervalSince(started))
    }

    /// Draws the completed bar (if it was shown at all) and ends its line.
    mutating func finish(detail: String) {
        guard shown else { return }
        draw(1, detail: detail, elapsed: Date().timeIntervalSince(started))
        FileHandle.standardError.write(Data("\n".utf8))
        shown = false
    }

    private func draw(_ fraction: Double, detail: String, elapsed: TimeInterval) {
        let clamped = min(1, max(0, fraction.isFinite ? fraction : 0))
        let filled = Int((clamped * Double(width)).rounded(.down))
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        let line = "\r\(label) [\(bar)] \(Int(clamped * 100))% \(detail) \(Int(elapsed))s"
        FileHandle.standardError.write(Data(line.utf8))
    }
}
