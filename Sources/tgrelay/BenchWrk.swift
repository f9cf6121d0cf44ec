import Foundation

/// Closed-loop load with wrk (a C load generator, so the generator is not what limits the figure).
/// A Lua script builds each POST body with its own chat id and sequence number, and prints wrk's
/// summary on one machine-readable line, including p99.9, which `--latency` does not show.
enum Wrk {
    struct Result {
        var requests: Int
        var seconds: Double
        /// Non-2xx answers, plus connect/read/write/timeout errors.
        var errors: Int
        var p50: UInt64
        var p99: UInt64
        var p999: UInt64
        var perSecond: Double { Double(requests) / seconds }
    }

    static func executable() throws -> String {
        guard let path = ProcStats.which("wrk") else {
            throw BenchError("""
                wrk is not installed; the accept bench drives its closed-loop load with it.
                Install it with `apt-get install -y wrk` (Debian/Ubuntu) or `brew install wrk` (macOS), then run again.
                """)
        }
        return path
    }

    /// The Lua script: when `postMessages`, each request is a `POST /v1/messages` to one of `chats` chats.
    static func script(postMessages: Bool, chats: Int) -> String {
        var lua = """
            -- Written by `tgrelay bench accept`: varying bodies, summary on one line.
            local threads = {}
            local thread_id = 0
            function setup(thread)
              thread_id = thread_id + 1
              thread:set("id", thread_id)
              table.insert(threads, thread)
            end

            """
        if postMessages {
            lua += """
                wrk.method = "POST"
                wrk.headers["Content-Type"] = "application/json"
                local counter = 0
                function request()
                  counter = counter + 1
                  -- Chat ids cycle over \(chats) lanes; the text is unique per thread and request.
                  local chat = 5000000 + ((counter * 7 + id * 13) % \(chats))
                  local body = string.format('{"chat_id":%d,"text":"accept bench t%d n%d"}', chat, id, counter)
                  return wrk.format(nil, "/v1/messages", nil, body)
                end

                """
        }
        lua += """
            function done(summary, latency, requests)
              local e = summary.errors
              io.write(string.format("BENCHRESULT requests=%d duration_us=%d errors=%d p50_us=%d p99_us=%d p999_us=%d\\n",
                summary.requests, summary.duration, e.connect + e.read + e.write + e.status + e.timeout,
                latency:percentile(50), latency:percentile(99), latency:percentile(99.9)))
            end

            """
        return lua
    }

    /// Runs wrk with `connections` connections on 2 threads for `seconds` against `url`.
    static func run(url: String, script: String, connections: Int, seconds: Int, directory: URL) async throws -> Result {
        let wrk = try executable()
        let scriptPath = directory.appendingPathComponent("wrk-\(UUID().uuidString.prefix(6)).lua").path
        try script.write(toFile: scriptPath, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: wrk)
        // Two threads for two cores; the timeout keeps a stalled server from hanging the bench.
        process.arguments = ["-t2", "-c\(connections)", "-d\(seconds)s", "--timeout", "10s", "-s", scriptPath, url]
        // Output goes to a file and the bench polls for wrk's exit: a blocking read would hold one of
        // the few cooperative threads that the in-process simulator also needs.
        let outputPath = scriptPath + ".out"
        _ = FileManager.default.createFile(atPath: outputPath, contents: nil)
        guard let output = FileHandle(forWritingAtPath: outputPath) else { throw BenchError("cannot write \(outputPath)") }
        process.standardOutput = output
        process.standardError = output
        try process.run()
        // wrk's -d bounds the run; the deadline only guards against a wedged wrk.
        let deadline = ContinuousClock.now + .seconds(seconds + 60)
        while process.isRunning {
            guard ContinuousClock.now < deadline else {
                process.terminate()
                throw BenchError("wrk did not finish within \(seconds + 60) s")
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        try? output.close()
        let text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        guard process.terminationStatus == 0, let line = text.split(separator: "\n").first(where: { $0.hasPrefix("BENCHRESULT") }) else {
            throw BenchError("wrk failed (status \(process.terminationStatus)):\n\(text)")
        }
        var values: [String: Double] = [:]
        for pair in line.split(separator: " ").dropFirst() {
            let parts = pair.split(separator: "=")
            if parts.count == 2 { values[String(parts[0])] = Double(parts[1]) }
        }
        func value(_ key: String) -> Double { values[key] ?? 0 }
        return Result(
            requests: Int(value("requests")), seconds: value("duration_us") / 1e6, errors: Int(value("errors")),
            p50: UInt64(value("p50_us") * 1000), p99: UInt64(value("p99_us") * 1000), p999: UInt64(value("p999_us") * 1000))
    }
}
