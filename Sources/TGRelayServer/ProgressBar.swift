import Foundation

/// A one-line progress bar on stderr for long runs of the command line tools: it appears only after
/// `delay` (short runs print nothing extra), redraws at most ten times a second, and stays out of stdout
/// so exports can be piped.
public struct ProgressBar {
    let label: String
    private let delay: TimeInterval
    private let now: () -> Date
    private let write: (String) -> Void
    private let started: Date
    private var lastDraw = Date.distantPast
    private var shown = false
    private let width = 30

    /// `now` and `write` are the clock and stderr, replaceable for tests.
    public init(
        _ label: String, delay: TimeInterval = 1, now: @escaping () -> Date = Date.init,
        write: @escaping (String) -> Void = { FileHandle.standardError.write(Data($0.utf8)) }
    ) {
        self.label = label
        self.delay = delay
        self.now = now
        self.write = write
        started = now()
    }

    /// `fraction` in 0...1; `detail` such as "12,345 rows".
    public mutating func update(_ fraction: Double, detail: String) {
        let now = now()
        guard now.timeIntervalSince(started) >= delay, now.timeIntervalSince(lastDraw) >= 0.1 else { return }
        lastDraw = now
        shown = true
        draw(fraction, detail: detail, elapsed: now.timeIntervalSince(started))
    }

    /// Draws the completed bar (if it was shown at all) and ends its line.
    public mutating func finish(detail: String) {
        guard shown else { return }
        draw(1, detail: detail, elapsed: now().timeIntervalSince(started))
        write("\n")
        shown = false
    }

    private func draw(_ fraction: Double, detail: String, elapsed: TimeInterval) {
        let clamped = min(1, max(0, fraction.isFinite ? fraction : 0))
        let filled = Int((clamped * Double(width)).rounded(.down))
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        write("\r\(label) [\(bar)] \(Int(clamped * 100))% \(detail) \(Int(elapsed))s")
    }
}
