import Foundation

/// A horizontal grouped bar chart as a self-contained SVG document: one or more panels stacked,
/// each with groups of bars (one bar per series), the value printed beside each bar.
struct BarChart {
    struct Group {
        var label: String
        /// One value per series; nil draws no bar ("not run").
        var values: [Double?]
    }

    struct Panel {
        var title: String
        var unit: String
        var groups: [Group]
        /// The axis end; nil uses the largest value (or the reference).
        var maximum: Double?
        /// A vertical line at this value, e.g. a physical minimum.
        var reference: Double? = nil
    }

    var series: [String]
    var panels: [Panel]

    private static let colors = ["#2b7bb9", "#e07b39", "#6a9f4b", "#9467bd"]
    private static let width = 720.0
    private static let labelWidth = 110.0
    private static let barHeight = 18.0

    var svg: String {
        var body = ""
        var y = 10.0
        // Legend.
        for (index, name) in series.enumerated() {
            let x = Self.labelWidth + Double(index) * 200
            body += "<rect x=\"\(x)\" y=\"\(y)\" width=\"12\" height=\"12\" fill=\"\(Self.colors[index % Self.colors.count])\"/>"
            body += text(x + 18, y + 11, escape(name))
        }
        y += 30
        for panel in panels {
            body += text(10, y + 12, escape(panel.title), weight: "bold")
            y += 24
            let largest = panel.groups.flatMap { $0.values.compactMap { $0 } }.max() ?? 0
            let maximum = max(panel.maximum ?? max(largest, panel.reference ?? 0) * 1.1, 1e-9)
            let plotWidth = Self.width - Self.labelWidth - 90
            let top = y
            for group in panel.groups {
                body += text(10, y + Self.barHeight * Double(series.count) / 2 + 4, escape(group.label))
                for (index, value) in group.values.enumerated() {
                    defer { y += Self.barHeight + 2 }
                    guard let value else { continue }
                    let length = max(0, value / maximum * plotWidth)
                    let color = Self.colors[index % Self.colors.count]
                    body += "<rect x=\"\(Self.labelWidth)\" y=\"\(y)\" width=\"\(fixed(length))\" height=\"\(Self.barHeight)\" fill=\"\(color)\"/>"
                    body += text(Self.labelWidth + length + 4, y + Self.barHeight - 4, "\(fixed(value)) \(panel.unit)")
                }
                y += 8
            }
            if let reference = panel.reference {
                let x = Self.labelWidth + reference / maximum * plotWidth
                body += "<line x1=\"\(fixed(x))\" y1=\"\(top - 4)\" x2=\"\(fixed(x))\" y2=\"\(y - 4)\" stroke=\"#000\" stroke-dasharray=\"4 3\"/>"
                body += text(x + 3, top - 6, "\(fixed(reference)) \(panel.unit)")
            }
            y += 16
        }
        return """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(Self.width))" height="\(Int(y))" viewBox="0 0 \(Int(Self.width)) \(Int(y))" \
            font-family="sans-serif" font-size="12">
            <rect width="100%" height="100%" fill="#fff"/>
            \(body)
            </svg>

            """
    }

    private func text(_ x: Double, _ y: Double, _ content: String, weight: String = "normal") -> String {
        "<text x=\"\(fixed(x))\" y=\"\(fixed(y))\" font-weight=\"\(weight)\">\(content)</text>"
    }

    private func fixed(_ value: Double) -> String { String(format: "%.1f", value) }

    private func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}
