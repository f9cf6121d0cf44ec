import Foundation
import TGRelayCore
import TGRelayStore

/// What the dashboard shows, gathered from the store, the dispatcher and the delivery history, as the
/// plain dictionaries the Mustache template renders (values are HTML-escaped by `{{…}}`; only the SVG
/// charts, built here from numbers, go in raw).
struct DashboardPage {
    let store: any MessageStore
    let dispatcher: Dispatcher

    struct Search {
        var message: Int64?
        var chat: String?
    }

    func context(now: Date, search: Search, csrf: String, nonce: String, signedIn: Bool, flash: String?) async throws -> [String: Any] {
        let counts = try await store.counts()
        let circuits = await dispatcher.circuitReadings()
        let live = await dispatcher.snapshot()
        let byBot = Dictionary(counts.map { ($0.bot, $0) }) { first, _ in first }
        let names = Set(byBot.keys).union(live.keys).sorted()
        var banners: [[String: Any]] = []
        var bots: [[String: Any]] = []
        for name in names {
            let count = byBot[name] ?? BotCounts(bot: name)
            let mine = circuits.filter { $0.bot == name }
            let down = mine.filter { $0.state != .closed }
            // Every endpoint down means nothing goes out: the operator must know it is held, not lost.
            if !mine.isEmpty, down.count == mine.count, let since = down.compactMap(\.outageSince).min() {
                banners.append([
                    "bot": name, "since": Self.clock(since), "held": Self.grouped(count.pending),
                ])
            }
            // The present depth too, so the chart's last point matches the numbers above it.
            dispatcher.metrics.history.recordQueueDepth(bot: name, depth: count.pending, at: now)
            let history = dispatcher.metrics.history.lastHour(bot: name, now: now)
            let rate = live[name]?.json["delivery_rate_per_second"] as? Double ?? 0
            bots.append([
                "name": name, "queue": Self.grouped(count.pending), "oldest": count.oldestPending.map { Self.age(now.timeIntervalSince($0)) } ?? "-",
                "delivered": Self.grouped(count.delivered), "dead": Self.grouped(count.failed), "expired": Self.grouped(count.expired),
                "rate": String(format: "%.1f", rate),
                "circuit": down.isEmpty ? "sending" : (down.count == mine.count ? "Telegram unreachable" : "\(down.count) of \(mine.count) endpoints down"),
                "circuit_class": down.isEmpty ? "ok" : "down",
                "queue_chart": SparkChart.svg(history.map(\.queueDepth), label: "queue depth, last hour", kind: "queue"),
                "rate_chart": SparkChart.svg(history.map(\.delivered), label: "deliveries per minute, last hour", kind: "rate"),
            ])
        }
        let deadLetters = try await store.deadLetters(DeadLetterFilter(limit: 50)).map { letter -> [String: Any] in
            [
                "id": String(letter.id), "bot": letter.bot, "chat": letter.chat, "reason": letter.lastError ?? "",
                "failed_at": Self.clock(letter.updatedAt, withDate: true), "attempts": String(letter.attempts),
            ]
        }
        let inactive = try await store.inactiveChats(bot: nil).map { chat -> [String: Any] in
            ["bot": chat.bot, "chat": chat.chat, "reason": chat.reason, "since": Self.clock(chat.since, withDate: true)]
        }
        var context: [String: Any] = [
            "csrf": csrf, "nonce": nonce, "signed_in": signedIn, "generated": Self.clock(now, withDate: true),
            "banners": banners, "bots": bots, "dead_letters": deadLetters, "no_dead_letters": deadLetters.isEmpty,
            "inactive": inactive, "no_inactive": inactive.isEmpty,
            "search_message": search.message.map(String.init) ?? "", "search_chat": search.chat ?? "",
        ]
        if let flash { context["flash"] = ["text": flash] }
        if search.message != nil || search.chat != nil {
            let chat = search.chat.map { ChatReference.canonical($0) ?? $0 }
            let rows = try await store.ledger(LedgerQuery(messageID: search.message, chat: chat, limit: 50)).map { entry -> [String: Any] in
                [
                    "seq": String(entry.seq), "at": Self.clock(entry.at, withDate: true), "message": String(entry.messageID),
                    "bot": entry.bot, "chat": entry.chat, "outcome": entry.outcome, "status": entry.httpStatus.map(String.init) ?? "-",
                    "description": entry.description ?? "", "ms": String(format: "%.0f", entry.durationMs),
                ]
            }
            context["searched"] = true
            context["ledger"] = rows
            context["no_ledger"] = rows.isEmpty
        }
        return context
    }

    /// "12:03 UTC", or "2026-11-22 12:03 UTC".
    static func clock(_ date: Date, withDate: Bool = false) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute], from: date)
        let time = String(format: "%02d:%02d UTC", c.hour ?? 0, c.minute ?? 0)
        return withDate ? String(format: "%04d-%02d-%02d ", c.year ?? 0, c.month ?? 0, c.day ?? 0) + time : time
    }

    /// 1234 → "1,234".
    static func grouped(_ value: Int) -> String {
        let digits = String(value.magnitude)
        var out = ""
        for (index, digit) in digits.enumerated() {
            if index > 0, (digits.count - index) % 3 == 0 { out += "," }
            out.append(digit)
        }
        return (value < 0 ? "-" : "") + out
    }

    static func age(_ seconds: TimeInterval) -> String {
        let total = max(0, Int(seconds))
        if total < 60 { return "\(total) s" }
        if total < 3600 { return "\(total / 60) min" }
        return "\(total / 3600) h \(total % 3600 / 60) min"
    }
}

/// A small inline-SVG line chart of per-minute values (oldest left), with its maximum as a label.
enum SparkChart {
    static let width = 300.0
    static let height = 70.0

    static func svg(_ values: [Int], label: String, kind: String) -> String {
        let top = max(1, values.max() ?? 0)
        let step = values.count > 1 ? width / Double(values.count - 1) : width
        let points = values.enumerated().map { index, value in
            let y = height - 4 - (Double(value) / Double(top)) * (height - 16)
            return String(format: "%.1f,%.1f", Double(index) * step, y)
        }.joined(separator: " ")
        return """
            <svg class="chart \(kind)" viewBox="0 0 \(Int(width)) \(Int(height))" width="\(Int(width))" height="\(Int(height))" role="img" aria-label="\(label)">\
            <title>\(label)</title>\
            <line x1="0" y1="\(height - 4)" x2="\(width)" y2="\(height - 4)" class="axis"/>\
            <polyline points="\(points)" class="line"/>\
            <text x="2" y="10" class="max">max \(values.max() ?? 0)</text>\
            <text x="\(width - 2)" y="10" class="label" text-anchor="end">\(label)</text>\
            </svg>
            """
    }
}
