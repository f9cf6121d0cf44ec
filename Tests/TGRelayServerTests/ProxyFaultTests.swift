import FakeTelegram
import Foundation
import Testing

/// The proxy when Telegram misbehaves: pass-through methods absorb 429s and transient errors within the
/// wait, a SIGKILL while a send waits for delivery loses nothing and sends nothing twice, and files
/// download through the relay.
@Suite(.serialized)
struct ProxyFaultTests {
    static func fault(_ kind: FakeFault.Kind, method: String, count: Int? = nil, retryAfter: Int = 1, duration: Double? = nil) -> FakeFault {
        var fault = FakeFault(kind: kind)
        fault.method = method
        fault.count = count
        fault.retryAfter = retryAfter
        fault.duration = duration
        return fault
    }

    /// getChat is not a send: it passes through, and within `proxy.wait_seconds` the relay waits out a 429
    /// and retries 5xx answers, so the library sees Telegram's eventual answer.
    @Test func passThroughAbsorbsShort429sAndTransientErrorsWithinTheWait() async throws {
        let bed = try await TestBed.rest(config: REST.config(["proxy": ["wait_seconds": 4]]))
        defer { Task { try await bed.shutdown() } }
        let params: [String: Any] = ["chat_id": 42]
        func getChatCalls() -> Int { bed.telegram.stats().requestsByMethod["getChat"] ?? 0 }

        _ = try bed.telegram.addFault(Self.fault(.tooManyRequests, method: "getChat", count: 1, retryAfter: 1))
        let started = Date()
        let throttled = try await ProxyTests.json(bed, "getChat", params)
        #expect(throttled.status == 200, "\(throttled.text)")
        #expect(throttled.result["id"] as? Int == 42)
        #expect(Date().timeIntervalSince(started) >= 1, "waited retry_after before calling again")
        #expect(getChatCalls() == 2)

        _ = try bed.telegram.addFault(Self.fault(.internalError, method: "getChat", count: 2))
        let restarted = try await ProxyTests.json(bed, "getChat", params)
        #expect(restarted.status == 200, "\(restarted.text)")
        #expect(getChatCalls() == 5)

        // A 429 longer than the wait comes back at once, as Telegram sent it.
        _ = try bed.telegram.addFault(Self.fault(.tooManyRequests, method: "getChat", count: 1, retryAfter: 30))
        let long = try await ProxyTests.json(bed, "getChat", params)
        #expect(long.status == 429)
        #expect(long.json["description"] as? String == "Too Many Requests: retry after 30")
        #expect((long.json["parameters"] as? [String: Any])?["retry_after"] as? Int == 30)
        #expect(getChatCalls() == 6)

        // An outage longer than the wait: Telegram's own last answer (its front end's 502).
        _ = try bed.telegram.addFault(Self.fault(.outage, method: "getChat", duration: 30))
        let down = try await ProxyTests.json(bed, "getChat", params)
        #expect(down.status == 502)
        #expect(getChatCalls() > 7, "retried during the wait")
    }

    /// A call that may have reached Telegram without an answer is not repeated (it may not be idempotent):
    /// the library gets a 502 and decides.
    @Test func passThroughDoesNotRepeatACallThatMayHaveBeenDone() async throws {
        let bed = try await TestBed.rest()
        defer { Task { try await bed.shutdown() } }
        _ = try bed.telegram.addFault(Self.fault(.lostAnswer, method: "setMyCommands", count: 1))
        let answer = try await ProxyTests.json(bed, "setMyCommands", ["commands": [["command": "start", "description": "Start"]]])
        #expect(answer.status == 502)
        #expect(answer.text == #"{"ok":false,"error_code":502,"description":"Bad Gateway"}"#)
        #expect(bed.telegram.stats().requestsByMethod["setMyCommands"] == 1)
    }

    /// The relay dies (SIGKILL) while a library's send waits for delivery during an outage. The message was
    /// committed before the wait began: the restarted relay delivers it once, and the library's identical
    /// resend attaches to it and receives Telegram's real answer.
    @Test func killedWhileASendWaitsThenTheResendAttaches() async throws {
        let bed = try await TestBed.rest(config: REST.config(["proxy": ["wait_seconds": 15]], options: ["max_attempts": 100]))
        defer { Task { try await bed.shutdown() } }
        _ = try bed.telegram.addFault(Self.fault(.outage, method: "sendMessage", duration: 6))
        let text = "sent while the relay died"
        async let waiting = ProxyTests.json(bed, "sendMessage", ["chat_id": 42, "text": text])
        #expect(try await eventually(timeout: .seconds(10)) { (bed.telegram.stats().requestsByMethod["sendMessage"] ?? 0) >= 1 })
        bed.relay.kill9()
        #expect((try? await waiting) == nil, "the library saw the connection drop")
        #expect(bed.deliveredTexts(chat: "42").isEmpty)

        try await bed.relay.start(http: bed.http)
        let resent = try await ProxyTests.json(bed, "sendMessage", ["chat_id": 42, "text": text])
        #expect(resent.status == 200, "\(resent.text)")
        #expect(resent.result["text"] as? String == "sent while the relay died")
        #expect(resent.headers.first(name: "X-Tgrelay-Message-Id") == "1", "the resend attached to the message accepted before the crash")
        #expect(bed.deliveredTexts(chat: "42") == ["sent while the relay died"])
        #expect(bed.telegram.stats().duplicatePayloads == 0)
        #expect(resent.result["message_id"] as? Int == bed.recordedSends.first?.messageID.map(Int.init))
    }

    /// A photo uploaded through the relay, its path from getFile and its bytes from /file/bot<token>/<path>,
    /// all through the relay.
    @Test func filesDownloadThroughTheRelay() async throws {
        let bed = try await TestBed.rest()
        defer { Task { try await bed.shutdown() } }
        let picture = (0..<5000).map { UInt8($0 % 251) }
        let sent = try await ProxyTests.call(
            bed, "/bot\(TestBed.token)/sendDocument", contentType: "multipart/form-data; boundary=XyZ-boundary",
            body: ProxyTests.multipart(fields: [("chat_id", "42")], files: [("document", "picture.png", picture)]))
        let document = try #require(sent.result["document"] as? [String: Any], "\(sent.text)")
        let fileID = try #require(document["file_id"] as? String)

        let file = try await ProxyTests.json(bed, "getFile", ["file_id": fileID])
        #expect(file.status == 200, "\(file.text)")
        let path = try #require(file.result["file_path"] as? String)
        let download = try await ProxyTests.call(bed, "/file/bot\(TestBed.token)/\(path)", method: .GET)
        #expect(download.status == 200)
        #expect(Array(download.body) == picture, "the bytes uploaded, byte for byte")
        let missing = try await ProxyTests.call(bed, "/file/bot\(TestBed.token)/documents/none.png", method: .GET)
        #expect(missing.status == 404)
        #expect(missing.json["description"] as? String == "Not Found")
        let direct = try await ProxyTests.direct(bed, "/file/bot\(TestBed.token)/documents/none.png", method: .GET, contentType: nil, body: nil)
        #expect(missing.body == direct.body, "Telegram's answer, unchanged")
    }
}
