import AsyncHTTPClient
import FakeTelegram
import Foundation
import NIOCore
import Testing

/// The dashboard: sign-in and CSRF over HTTP, and the page itself in headless Chromium.
@Suite(.serialized)
struct DashboardTests {
    static let key = "ops-Dashboard-Key-77c1-SECRET"

    @Test func signInSessionAndCSRFProtectTheDashboard() async throws {
        let bed = try await TestBed.rest(environment: ["TGRELAY_API_KEY": Self.key])
        // Redirects are the answers under test here, so this client does not follow them.
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(redirectConfiguration: .disallow))
        defer { Task { try await client.shutdown(); try await bed.shutdown() } }
        let base = bed.relay.baseURL
        let page = { (path: String, cookie: String?) in try await Self.page(client, base + path, cookie: cookie) }
        let post = { (path: String, form: String, cookie: String?, origin: String?) in
            try await Self.post(client, base + path, form: form, cookie: cookie, origin: origin)
        }

        let anonymous = try await page("/", nil)
        #expect(anonymous.status == 200 && anonymous.body.contains("Sign in") && !anonymous.body.contains("Dead letters"))
        #expect(anonymous.headers["content-security-policy"]?.contains("script-src 'nonce-") == true)
        let wrong = try await post("/login", "key=guess", nil, nil)
        #expect(wrong.status == 401 && wrong.body.contains("Wrong API key"))
        #expect(wrong.headers["set-cookie"] == nil)

        let login = try await post("/login", "key=" + Self.key, nil, nil)
        #expect(login.status == 303 && login.headers["location"] == "/")
        let setCookie = try #require(login.headers["set-cookie"])
        #expect(setCookie.contains("HttpOnly") && setCookie.contains("SameSite=Strict") && !setCookie.contains(Self.key))
        let cookie = String(setCookie.prefix { $0 != ";" })
        let forged = try await page("/", "tgrelay_session=99999999999.0000")
        #expect(forged.body.contains("Sign in"), "a session not signed by this relay is refused")

        var notFound = FakeFault(kind: .chatNotFound)
        notFound.chat = "-4040"
        let fault = try bed.telegram.addFault(notFound)
        let failed = try #require(try await bed.post("/messages", ["chat_id": -4040, "text": "x"], headers: ["Authorization": "Bearer \(Self.key)"])["id"] as? Int)
        #expect(try await eventually(timeout: .seconds(10)) {
            try await bed.http.json(.GET, bed.api + "/messages/\(failed)", headers: ["Authorization": "Bearer \(Self.key)"])["status"] as? String == "failed"
        })
        bed.telegram.removeFault(id: fault)

        let dashboard = try await page("/", cookie)
        #expect(dashboard.status == 200 && dashboard.body.contains("Dead letters") && dashboard.body.contains("chat not found"))
        #expect(!dashboard.body.contains(Self.key) && !dashboard.body.contains(TestBed.token))
        let csrf = try #require(dashboard.body.firstMatch(of: /name="csrf" value="([0-9a-f]{64})"/)?.1)

        let path = "/dashboard/dead-letters/\(failed)/replay"
        #expect(try await post(path, "csrf=\(csrf)", nil, nil).status == 403, "no session")
        #expect(try await post(path, "", cookie, nil).status == 403, "no token")
        #expect(try await post(path, "csrf=" + String(repeating: "0", count: 64), cookie, nil).status == 403)
        #expect(try await post(path, "csrf=\(csrf)", cookie, "http://evil.example").status == 403)
        let replay = try await post(path, "csrf=\(csrf)", cookie, base)
        #expect(replay.status == 303 && replay.headers["location"] == "/?replayed=\(failed)#dead-letters")
        let message = try await bed.http.json(.GET, bed.api + "/messages/\(failed)", headers: ["Authorization": "Bearer \(Self.key)"])
        #expect(["queued", "sending", "delivered"].contains(message["status"] as? String ?? ""), "\(message.body)")
    }

    @Test func pageLoadsInChromiumWithChartsBannerAndWorkingReplay() async throws {
        let bed = try await TestBed.rest()
        defer { Task { try await bed.shutdown() } }
        var ids: [Int] = []
        for chat in 301...306 { ids.append(try await bed.send(chat: chat, text: "hello \(chat)")) }
        var notFound = FakeFault(kind: .chatNotFound)
        notFound.chat = "-4040"
        let fault = try bed.telegram.addFault(notFound)
        var blocked = FakeFault(kind: .blocked)
        blocked.chat = "777"
        try bed.telegram.addFault(blocked)
        // The blocked chat fails first, so the newest dead letter (the first Replay button) is the one that can succeed.
        let blockedID = try await bed.send(chat: 777, text: "blocked")
        _ = try await bed.waitFinal(ids + [blockedID])
        let dead = [try await bed.send(chat: -4040, text: "lost chat"), blockedID]
        _ = try await bed.waitFinal(dead)
        bed.telegram.removeFault(id: fault)

        let screenshots = Self.screenshotDirectory(bed)
        let normal = try Self.chromium(bed.relay.baseURL + "/", screenshot: screenshots.appendingPathComponent("dashboard.png").path, clickReplay: true)
        #expect((normal["errors"] as? [String])?.isEmpty == true, "console errors: \(normal["errors"] ?? [])")
        let before = try #require(normal["before"] as? [String: Any])
        #expect(before["bots"] as? [String] == ["default"])
        #expect(before["charts"] as? Int == 2 && before["drawn"] as? Int == 2, "\(before)")
        #expect(before["deadLetters"] as? Int == 2)
        #expect((before["banner"] as? String)?.isEmpty == true)
        let after = try #require(normal["after"] as? [String: Any])
        #expect((after["flash"] as? String)?.contains("queued again") == true, "\(after)")
        #expect(after["deadLetters"] as? Int == 1)
        #expect(try await bed.waitFinal([dead[0]])[dead[0]]?["status"] as? String == "delivered", "the replayed dead letter was delivered")

        // An outage: every lane fails until the circuit opens; the banner says what is held.
        let outage = try bed.telegram.addFault(FakeFault(kind: .outage))
        var held: [Int] = []
        for chat in 4042..<4050 { held.append(try await bed.send(chat: chat, text: "held")) }
        #expect(try await eventually(timeout: .seconds(10)) {
            (try await bed.botStatus()?["endpoints"] as? [[String: Any]])?.first?["circuit"] as? String == "open"
        })
        let down = try Self.chromium(bed.relay.baseURL + "/", screenshot: screenshots.appendingPathComponent("dashboard-outage.png").path, clickReplay: false)
        #expect((down["errors"] as? [String])?.isEmpty == true, "console errors: \(down["errors"] ?? [])")
        let banner = try #require((down["before"] as? [String: Any])?["banner"] as? String)
        #expect(banner.contains("Telegram unreachable since ") && banner.contains("8 messages held") && banner.contains("will be delivered automatically"), "\(banner)")
        bed.telegram.removeFault(id: outage)
        #expect(try await bed.waitFinal(held).values.allSatisfy { $0["status"] as? String == "delivered" })
    }

    /// Where screenshots go: `TGRELAY_SCREENSHOTS` (set it to the repository's docs/ to refresh the committed
    /// ones), else the test's own directory.
    static func screenshotDirectory(_ bed: TestBed) -> URL {
        ProcessInfo.processInfo.environment["TGRELAY_SCREENSHOTS"].map { URL(fileURLWithPath: $0) } ?? bed.directory
    }

    /// Runs `scripts/dashboard_check.py` (headless Chromium through the DevTools protocol) and returns its report.
    static func chromium(_ url: String, screenshot: String, clickReplay: Bool) throws -> [String: Any] {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("scripts/dashboard_check.py").path
        let result = try runProcess(
            "/usr/bin/env", ["python3", script, "--url", url, "--screenshot", screenshot] + (clickReplay ? ["--click-replay"] : []))
        let line = result.output.split(separator: "\n").last { $0.hasPrefix("{") }
        guard result.status == 0, let line, let report = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
            Issue.record("dashboard_check.py failed (scripts/test.sh installs chromium and websockets):\n\(result.output)")
            return [:]
        }
        return report
    }

    struct Page {
        var status: Int
        var headers: [String: String]
        var body: String
    }

    static func page(_ client: HTTPClient, _ url: String, cookie: String?) async throws -> Page {
        var request = HTTPClientRequest(url: url)
        if let cookie { request.headers.add(name: "Cookie", value: cookie) }
        return try await execute(client, request)
    }

    static func post(_ client: HTTPClient, _ url: String, form: String, cookie: String?, origin: String?) async throws -> Page {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        if let cookie { request.headers.add(name: "Cookie", value: cookie) }
        if let origin { request.headers.add(name: "Origin", value: origin) }
        request.body = .bytes(ByteBuffer(string: form))
        return try await execute(client, request)
    }

    static func execute(_ client: HTTPClient, _ request: HTTPClientRequest) async throws -> Page {
        let response = try await client.execute(request, timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 8 << 20)
        var headers: [String: String] = [:]
        for header in response.headers { headers[header.name.lowercased()] = header.value }
        return Page(status: Int(response.status.code), headers: headers, body: String(buffer: body))
    }
}
