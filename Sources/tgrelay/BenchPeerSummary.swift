import Foundation
import TGRelayCore

/// Turns the runs of `bench peers` into the targets table, the side-by-side table and the chart.
struct PeerSummary {
    let workload: PeerWorkload
    let peer: PeerSetup?
    let results: [PeerRunResult]
    let accept: [AcceptLatency.Phase]
    let outageSeconds: Int

    private func result(_ scenario: PeerScenario, _ sender: PeerRun.Sender) -> PeerRunResult? {
        results.first { $0.run.scenario == scenario && $0.run.sender == sender }
    }

    private var peerName: String {
        "python-telegram-bot \(peer?.version ?? "22.x") + AIORateLimiter(max_retries=\(peer?.maxRetries ?? 0))"
    }

    private func overMinimum(_ r: PeerRunResult) -> Double { r.deliveries.span / workload.physicalMinimum() - 1 }

    /// The targets from the issue, for tgrelay.
    func fill(_ report: inout BenchReport) {
        if let relay = result(.broadcast, .tgrelay) {
            let over = overMinimum(relay)
            report.add(
                "1. broadcast: tgrelay completion vs physical minimum (\(Fmt.fixed(workload.physicalMinimum())) s)",
                "\(Fmt.fixed(relay.deliveries.span)) s (+\(Fmt.percent(over)))", target: "≤ +3 %", met: over <= 0.03 && relay.lost == 0)
            report.add("1. broadcast: tgrelay 429s", "\(relay.tooManyRequests)", target: "0", met: relay.tooManyRequests == 0)
            if let ptb = result(.broadcast, .peer) {
                let ahead = relay.lost < ptb.lost || (relay.lost == ptb.lost && relay.deliveries.span <= ptb.deliveries.span)
                report.add(
                    "1. broadcast: tgrelay ahead of the peer (lost, then time)",
                    "lost \(relay.lost) vs \(ptb.lost); \(Fmt.fixed(relay.deliveries.span)) s vs \(Fmt.fixed(ptb.deliveries.span)) s",
                    target: "ahead", met: ahead)
            }
        }
        for scenario in [PeerScenario.crash, .outage] {
            guard let relay = result(scenario, .tgrelay) else { continue }
            let number = scenario == .crash ? "2" : "3"
            report.add("\(number). \(scenario.rawValue): tgrelay messages lost", "\(relay.lost)", target: "0", met: relay.lost == 0)
        }
        report.notes = [comparisonTable, "![tgrelay and python-telegram-bot side by side](benchmarks-peers.svg)"] + method
    }

    /// The side-by-side table in Markdown.
    var comparisonTable: String {
        var rows: [[String]] = []
        func row(_ label: String, _ scenario: PeerScenario, _ figure: (PeerRunResult) -> String) {
            guard result(scenario, .tgrelay) != nil || result(scenario, .peer) != nil else { return }
            rows.append([label, result(scenario, .tgrelay).map(figure) ?? "—", result(scenario, .peer).map(figure) ?? "—"])
        }
        let total = Fmt.int(Double(workload.total))
        func deliveredLostDuplicated(_ r: PeerRunResult) -> String {
            "\(Fmt.int(Double(r.deliveries.distinct))) / \(Fmt.int(Double(r.lost))) / \(Fmt.int(Double(r.deliveries.duplicates)))"
                + (r.timedOut ? " (the bench gave up waiting)" : "")
        }
        row("1. broadcast: first → last delivery", .broadcast) { "\(Fmt.fixed($0.deliveries.span)) s" + ($0.lost > 0 ? " (of what arrived)" : "") }
        row("1. broadcast: over the physical minimum (\(Fmt.fixed(workload.physicalMinimum())) s)", .broadcast) {
            $0.lost > 0 ? "— (\(Fmt.int(Double($0.lost))) never arrived)" : "+" + Fmt.percent(overMinimum($0))
        }
        row("1. broadcast: 429s received", .broadcast) { Fmt.int(Double($0.tooManyRequests)) }
        row("1. broadcast: delivered / lost / duplicated (of \(total))", .broadcast, deliveredLostDuplicated)
        row("1. broadcast: order violations (per chat)", .broadcast) { "\($0.deliveries.orderViolations)" }
        row("2. crash at 30 %: delivered / lost / duplicated", .crash, deliveredLostDuplicated)
        row("2. crash: killed at (delivered) / 429s", .crash) { r in "\(r.killedAt.map { Fmt.int(Double($0)) } ?? "had ended") / \(r.tooManyRequests)" }
        row("3. outage \(outageSeconds) s: delivered / lost / duplicated", .outage, deliveredLostDuplicated)
        row("3. outage: after recovery, backlog drained (last private chat) / last delivery", .outage) { r in
            "\(r.drainAfterRecovery.map { Fmt.fixed($0) + " s" } ?? "— (nothing after)") / \(r.doneAfterRecovery.map { Fmt.fixed($0) + " s" } ?? "—")"
        }
        row("3. outage: 429s received", .outage) { Fmt.int(Double($0.tooManyRequests)) }
        row("4. sender CPU per 10,000 delivered (broadcast): total → per 10,000", .broadcast) { r in
            let perTenThousand = r.deliveries.distinct > 0 ? Fmt.fixed(r.cpuSeconds * 10_000 / Double(r.deliveries.distinct), 2) + " s" : "—"
            return "\(Fmt.fixed(r.cpuSeconds, 2)) s for \(Fmt.int(Double(r.deliveries.distinct))) → \(perTenThousand)"
        }
        row("4. peak RSS of the sender process (broadcast)", .broadcast) { Fmt.mib($0.peakRSS) }
        for phase in accept {
            rows.append([
                "4. accept p99 (p50) at \(Fmt.int(Double(phase.rate))) msg/s, open loop",
                "\(Fmt.ms(phase.p99)) (\(Fmt.ms(phase.p50))), \(phase.failed) of \(Fmt.int(Double(phase.sent))) failed",
                "— (sends from memory)",
            ])
        }
        var text = "| scenario and figure | tgrelay | \(peerName) |\n|---|---|---|\n"
        for cells in rows { text += "| " + cells.joined(separator: " | ") + " |\n" }
        return text
    }

    private var method: [String] {
        var notes = [
            """
            Workload: \(Fmt.int(Double(workload.total))) messages, \(Fmt.int(Double(workload.privates))) to as many private \
            chats and \(workload.perGroup) to each of \(workload.groups) groups, the group messages spread evenly through the \
            list; every sender gets the whole list at once. Each run has its own simulator (FakeLimits.telegram: 30 sends \
            in any 1 s per bot, 20 in any 60 s per group, 3 in any 2.5 s per private chat, counted on arrival; a send \
            during a penalty is answered 429 again and extends the penalty by 1 s). All runs went at the same time \
            unless the command says --sequential; they are bound by Telegram's limits, not by CPU, but the machine was \
            shared (load average above). The crash (SIGKILL) comes \(Fmt.fixed(0.3 * Double(workload.total) / 30)) s and \
            the outage (502 from the simulator for \(outageSeconds) s) \(Fmt.fixed(0.5 * Double(workload.total) / 30)) s \
            after the sender got the list: 30 % and 50 % of the time the list takes at 30 msg/s, the same moment for both \
            senders. Delivered, lost, duplicated and out-of-order messages are counted from what the simulator received.
            """,
            """
            Physical minimum: group message k cannot arrive before message k − 20 of the same group plus 60 s, so the \
            last of \(workload.perGroup) arrives at least \(Int(Double((workload.perGroup - 1) / 20) * 60)) s after the \
            group's first window; the \(workload.groups * min(20, workload.perGroup)) first-window group messages need \
            the bot-wide 30/s too, giving \(Fmt.fixed(workload.physicalMinimum())) s from the first to the last delivery \
            (the \(Fmt.int(Double(workload.total))) messages at 30/s alone would need \
            \(Fmt.fixed(Double((workload.total - 1) / 30))) s). The simulator does not space the messages of a group; \
            tgrelay sends to a group at most two a second by default (`options.group_spacing_seconds` 0.5: Telegram's FAQ \
            tolerates short bursts over one a second in a single chat), which makes its minimum \
            \(Fmt.fixed(workload.minimum(groupSpacing: RateLimits.defaultGroupSpacing))) s; at one a second it would be \
            \(Fmt.fixed(workload.minimum(groupSpacing: 1))) s.
            """,
            """
            tgrelay: `tgrelay serve` from the same binary, fresh SQLite file, default settings; the list is queued \
            through POST /v1/messages/batch (1,000 per request). Crash: SIGKILL, then `tgrelay serve` again on the same \
            file. CPU and peak RSS are the relay process's (/proc), not the bench's or the simulator's.
            """,
        ]
        if let peer {
            notes.append(
                """
                The peer (\(peer.script)): a bot built as python-telegram-bot's documentation shows \
                (`ApplicationBuilder().rate_limiter(AIORateLimiter(max_retries=\(peer.maxRetries)))`; 0 is PTB's \
                default), its `base_url` pointing at the simulator. It starts every send at once with asyncio.gather \
                and lets the limiter pace them; a send that raises is logged and counted, not sent again, as a bot's \
                error handler does. The pending sends live only in the process's memory, so its restart after the \
                crash is the script started again with nothing to send: a bot does not know what its dead \
                predecessor still had queued (an operator re-running the whole broadcast would instead send again \
                everything delivered before the crash). CPU and peak RSS are the script's own (getrusage). Failed \
                sends in the broadcast run, by exception: \(failureText(.broadcast)); crash: \(failureText(.crash)); \
                outage: \(failureText(.outage)).
                """)
        }
        return notes
    }

    private func failureText(_ scenario: PeerScenario) -> String {
        guard let failures = result(scenario, .peer)?.failures, !failures.isEmpty else { return "none" }
        return failures.sorted { $0.key < $1.key }.map { "\($0.key) \(Fmt.int(Double($0.value)))" }.joined(separator: ", ")
    }

    /// Delivered share per scenario, and the broadcast's completion time, as an SVG image.
    var chart: String {
        let series = ["tgrelay", "python-telegram-bot"]
        let delivered = PeerScenario.allCases.compactMap { scenario -> BarChart.Group? in
            let values = [PeerRun.Sender.tgrelay, .peer].map { sender in
                result(scenario, sender).map { 100 * Double($0.deliveries.distinct) / Double(max($0.total, 1)) }
            }
            return values.allSatisfy({ $0 == nil }) ? nil : BarChart.Group(label: scenario.rawValue, values: values)
        }
        let times = BarChart.Group(
            label: "broadcast", values: [result(.broadcast, .tgrelay)?.deliveries.span, result(.broadcast, .peer)?.deliveries.span])
        return BarChart(series: series, panels: [
            .init(title: "Messages delivered (% of \(Fmt.int(Double(workload.total))))", unit: "%", groups: delivered, maximum: 100),
            .init(
                title: "Broadcast: first to last delivery (s); line: physical minimum", unit: "s", groups: [times],
                maximum: nil, reference: workload.physicalMinimum()),
        ]).svg
    }
}
