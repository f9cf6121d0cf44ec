import AsyncHTTPClient
import FakeTelegram
import Foundation
import NIOCore
import NIOHTTP1
import Testing

/// The Bot API proxy at the HTTP level: tokens, encodings, Telegram-shaped errors, the outbox path
/// (real answers, 429 while queued, resends attaching), uploads and pass-through.
@Suite(.serialized)
struct ProxyTests {
    static let wrongToken = "999999:WRONG-token-SECRET"

    struct Answer {
        var status: Int
        var headers: HTTPHeaders
        var body: Data
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:] }
        var text: String { String(decoding: body, as: UTF8.self) }
        var result: [String: Any] { json["result"] as? [String: Any] ?? [:] }
    }

    static func call(
        _ bed: TestBed, _ path: String, method: HTTPMethod = .POST, contentType: String? = nil, body: [UInt8]? = nil,
        headers: [String: String] = [:]
    ) async throws -> Answer {
        var request = HTTPClientRequest(url: bed.relay.baseURL + path)
        request.method = method
        if let contentType { request.headers.add(name: "Content-Type", value: contentType) }
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
        let response = try await bed.http.execute(request, timeout: .seconds(60))
        let bytes = try await response.body.collect(upTo: 1 << 20)
        return Answer(status: Int(response.status.code), headers: response.headers, body: Data(buffer: bytes))
    }

    static func json(_ bed: TestBed, _ method: String, _ params: [String: Any], headers: [String: String] = [:]) async throws -> Answer {
        try await call(bed, "/bot\(TestBed.token)/\(method)", contentType: "application/json",
                       body: Array(try JSONSerialization.data(withJSONObject: params)), headers: headers)
    }

    static func multipart(fields: [(String, String)], files: [(field: String, name: String, data: [UInt8])], boundary: String = "XyZ-boundary") -> [UInt8] {
        var body: [UInt8] = []
        for (name, value) in fields {
            body += Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n\(value)\r\n".utf8)
        }
        for file in files {
            body += Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(file.field)\"; filename=\"\(file.name)\"\r\nContent-Type: image/png\r\n\r\n".utf8)
            body += file.data + Array("\r\n".utf8)
        }
        return body + Array("--\(boundary)--\r\n".utf8)
    }

    @Test func unknownTokensGetTelegramsOwn401AndNeverLeaveTheRelay() async throws {
        let bed = try await TestBed.rest()
        defer { Task { try await bed.shutdown() } }
        let before = bed.telegram.stats().totalRequests
        for path in ["/bot\(Self.wrongToken)/getMe", "/bot\(Self.wrongToken)/sendMessage?chat_id=1&text=x",
                     "/bot\(TestBed.token)x/getMe", "/bot\(TestBed.token.dropLast())/getMe", "/file/bot\(Self.wrongToken)/photos/file_1.jpg"] {
            let answer = try await Self.call(bed, path, method: path.hasPrefix("/file") ? .GET : .POST)
            #expect(answer.status == 401, "\(path)")
            #expect(answer.text == #"{"ok":false,"error_code":401,"description":"Unauthorized"}"#, "\(path)")
        }
        #expect(bed.telegram.stats().totalRequests == before, "an unknown token was forwarded: the relay would be an open proxy")
        _ = try await Self.json(bed, "sendMessage", ["chat_id": 42, "text": "logged?"])
        #expect(!bed.relay.logText.contains("TEST-token-SECRET"))
        #expect(!bed.relay.logText.contains("WRONG-token-SECRET"))
    }

    @Test func unknownMethodsAndMalformedBodiesGetTelegramShapedErrors() async throws {
        let bed = try await TestBed.rest()
        defer { Task { try await bed.shutdown() } }
        let base = "/bot\(TestBed.token)"
        let cases: [(String, String?, [UInt8]?, Int, String)] = [
            ("/sendMessages", "application/json", Array(#"{"chat_id":1,"text":"x"}"#.utf8), 404, "Not Found"),
            ("/sendMessage", "application/json", Array(#"{"chat_id":1,"text":"#.utf8), 400, "Bad Request: can't parse JSON object"),
            ("/sendMessage", "application/json", Array("[1,2]".utf8), 400, "Bad Request: can't parse JSON object"),
            ("/sendMessage", "multipart/form-data", Array("--x\r\n".utf8), 400, "Bad Request: can't parse multipart/form-data: boundary not found"),
            ("/sendMessage", "multipart/form-data; boundary=x", Array("--x\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nno end".utf8), 400,
             "Bad Request: can't parse multipart/form-data: closing boundary not found"),
            ("/sendMessage", "application/json", Array(#"{"text":"x"}"#.utf8), 400, "Bad Request: chat_id is required"),
            ("/sendMessage", "application/x-www-form-urlencoded", Array("chat_id=1&text=%20".utf8), 400, "Bad Request: text is empty"),
            ("/sendMessage", "application/json", Array(#"{"chat_id":"@","text":"x"}"#.utf8), 400,
             #"Bad Request: chat_id must be a non-zero integer or "@username""#),
        ]
        for (path, type, body, status, description) in cases {
            let answer = try await Self.call(bed, base + path, contentType: type, body: body)
            #expect(answer.status == status, "\(path) \(answer.text)")
            #expect(answer.json["ok"] as? Bool == false)
            #expect(answer.json["error_code"] as? Int == status)
            #expect(answer.json["description"] as? String == description, "\(answer.text)")
        }
        #expect(bed.recordedSends.isEmpty)
    }

    @Test func otherMethodsPassThroughWithTelegramsAnswerUnchanged() async throws {
        let bed = try await TestBed.rest()
        defer { Task { try await bed.shutdown() } }
        // Telegram's answers come back byte for byte, its errors included; file downloads keep their path
        // (an unknown path: the simulator's 404 comes back).
        let calls: [(String, HTTPMethod, String?, [UInt8]?)] = [
            ("/bot\(TestBed.token)/getMe", .GET, nil, nil),
            ("/bot\(TestBed.token)/getChat", .POST, "application/json", Array("{}".utf8)),
            ("/bot\(TestBed.token)/answerCallbackQuery", .POST, "application/x-www-form-urlencoded", Array("callback_query_id=1".utf8)),
            ("/file/bot\(TestBed.token)/photos/file_1.jpg", .GET, nil, nil),
        ]
        for (path, method, type, body) in calls {
            let relayed = try await Self.call(bed, path, method: method, contentType: type, body: body)
            let direct = try await Self.direct(bed, path, method: method, contentType: type, body: body)
            #expect(relayed.status == direct.status, "\(path)")
            #expect(relayed.body == direct.body, "\(path): \(relayed.text) vs \(direct.text)")
        }
        #expect(try await Self.call(bed, "/bot\(TestBed.token)/GETME", method: .GET).status == 200)
    }

    /// The same call straight to the simulator.
    static func direct(_ bed: TestBed, _ path: String, method: HTTPMethod, contentType: String?, body: [UInt8]?) async throws -> Answer {
        var request = HTTPClientRequest(url: bed.telegram.baseURL + path)
        request.method = method
        if let contentType { request.headers.add(name: "Content-Type", value: contentType) }
        if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
        let response = try await bed.http.execute(request, timeout: .seconds(10))
        return Answer(status: Int(response.status.code), headers: response.headers, body: Data(buffer: try await response.body.collect(upTo: 1 << 20)))
    }

    /// Query string, form, JSON and multipart: each send goes through the outbox and returns Telegram's
    /// real answer, with the relay's message id in a header.
    @Test func sendsInEveryEncodingReturnTelegramsRealAnswer() async throws {
        let bed = try await TestBed.rest()
        defer { Task { try await bed.shutdown() } }
        let base = "/bot\(TestBed.token)/sendMessage"
        let answers = [
            try await Self.call(bed, base + "?chat_id=42&text=query", method: .GET),
            try await Self.call(bed, base, contentType: "application/x-www-form-urlencoded", body: Array("chat_id=42&text=form+%C3%A9".utf8)),
            try await Self.json(bed, "sendMessage", ["chat_id": 42, "text": "json"]),
            try await Self.call(bed, base, contentType: "multipart/form-data; boundary=\"XyZ-boundary\"",
                                body: Self.multipart(fields: [("chat_id", "42"), ("text", "multipart")], files: [])),
        ]
        let recorded = bed.recordedSends
        #expect(bed.deliveredTexts(chat: "42") == ["query", "form é", "json", "multipart"])
        for (index, answer) in answers.enumerated() {
            #expect(answer.status == 200, "\(answer.text)")
            #expect(answer.json["ok"] as? Bool == true)
            #expect(answer.result["message_id"] as? Int == recorded[index].messageID.map(Int.init))
            let id = try #require(answer.headers.first(name: "X-Tgrelay-Message-Id"))
            #expect(answer.headers.first(name: "X-Tgrelay-Status") == "delivered")
            #expect(try await bed.message(Int(id)!)["status"] as? String == "delivered")
            // Byte for byte what Telegram answered (the ledger keeps the raw body).
            let rows = try await bed.http.json(.GET, bed.api + "/ledger?message_id=\(id)")["entries"] as? [[String: Any]] ?? []
            #expect(rows.last?["response_body"] as? String == answer.text)
        }
    }

    /// A photo upload is stored with the message and re-sent as multipart; above 50 MB it is refused.
    @Test func uploadsAreStoredAndResentAsMultipart() async throws {
        let bed = try await TestBed.rest()
        defer { Task { try await bed.shutdown() } }
        let picture = (0..<5000).map { UInt8($0 % 251) }
        let answer = try await Self.call(
            bed, "/bot\(TestBed.token)/sendPhoto", contentType: "multipart/form-data; boundary=XyZ-boundary",
            body: Self.multipart(fields: [("chat_id", "42"), ("caption", "a photo")], files: [("photo", "p.png", picture)]))
        #expect(answer.status == 200, "\(answer.text)")
        #expect((answer.result["photo"] as? [Any])?.isEmpty == false)
        let sent = try #require(bed.recordedSends.first)
        #expect(sent.params["photo"]?["file_size"]?.intValue == 5000)
        #expect(sent.params["photo"]?["file_name"]?.stringValue == "p.png")
        #expect(sent.params["caption"]?.stringValue == "a photo")

        let huge = [UInt8](repeating: 7, count: (50 << 20) + 1)
        let refused = try await Self.call(
            bed, "/bot\(TestBed.token)/sendDocument", contentType: "multipart/form-data; boundary=XyZ-boundary",
            body: Self.multipart(fields: [("chat_id", "42")], files: [("document", "big.bin", huge)]))
        #expect(refused.status == 413)
        #expect(refused.json["description"] as? String == "Request Entity Too Large: uploads are limited to 50 MB, this request has 52428801 bytes")
        #expect(bed.recordedSends.count == 1)
    }

    /// Telegram down longer than the wait: 429 with an estimate, the message stays queued, identical resends
    /// attach to it, and once delivered they get the real answer; Telegram saw it once.
    @Test func resendsDuringAnOutageAttachToTheQueuedMessage() async throws {
        let bed = try await TestBed.rest(config: REST.config(["proxy": ["wait_seconds": 1]], options: ["max_attempts": 50]))
        defer { Task { try await bed.shutdown() } }
        var outage = FakeFault(kind: .outage)
        outage.duration = 3
        _ = try bed.telegram.addFault(outage)
        let params: [String: Any] = ["chat_id": 42, "text": "during the outage"]

        let first = try await Self.json(bed, "sendMessage", params)
        #expect(first.status == 429)
        #expect(first.json["error_code"] as? Int == 429)
        let retryAfter = try #require((first.json["parameters"] as? [String: Any])?["retry_after"] as? Int)
        #expect(retryAfter >= 1)
        #expect(first.headers.first(name: "Retry-After") == String(retryAfter))
        let id = first.headers.first(name: "X-Tgrelay-Message-Id")
        #expect(id != nil)

        var final = first
        let delivered = try await eventually(timeout: .seconds(30), every: .milliseconds(500)) {
            final = try await Self.json(bed, "sendMessage", params)
            #expect(final.headers.first(name: "X-Tgrelay-Message-Id") == id, "a resend made a new message")
            return final.status == 200
        }
        #expect(delivered)
        #expect(final.result["text"] as? String == "during the outage")
        #expect(bed.deliveredTexts(chat: "42") == ["during the outage"])
        // Within the dedup window, even after delivery, the same payload answers with the same message.
        let again = try await Self.json(bed, "sendMessage", params)
        #expect(again.body == final.body)
        #expect(bed.deliveredTexts(chat: "42").count == 1)
    }

    @Test func waitHintZeroAnswersAtOnceWithTheQueuedStatus() async throws {
        let bed = try await TestBed.rest(config: REST.config(options: ["max_attempts": 50]))
        defer { Task { try await bed.shutdown() } }
        var outage = FakeFault(kind: .outage)
        outage.duration = 2
        _ = try bed.telegram.addFault(outage)
        let answer = try await Self.json(bed, "sendMessage", ["chat_id": 42, "text": "later"], headers: ["X-Tgrelay-Wait": "0"])
        #expect(answer.status == 202)
        #expect(answer.json["ok"] as? Bool == true)
        #expect(answer.result["status"] as? String == "queued")
        let id = try #require(answer.result["relay_message_id"] as? Int)
        #expect(try await bed.waitFinal([id])[id]?["status"] as? String == "delivered")

        let invalid = try await Self.json(bed, "sendMessage", ["chat_id": 42, "text": "x"], headers: ["X-Tgrelay-Wait": "soon"])
        #expect(invalid.status == 400)
        #expect(invalid.json["description"] as? String == "Bad Request: X-Tgrelay-Wait must be a number of seconds from 0 to 600")
    }

    /// Telegram refused the send: its own error answer is returned byte for byte.
    @Test func refusedSendsReturnTelegramsErrorVerbatim() async throws {
        let bed = try await TestBed.rest()
        defer { Task { try await bed.shutdown() } }
        var notFound = FakeFault(kind: .chatNotFound)
        notFound.chat = "5"
        _ = try bed.telegram.addFault(notFound)
        let answer = try await Self.json(bed, "sendMessage", ["chat_id": 5, "text": "nobody"])
        let direct = try await Self.direct(
            bed, "/bot\(TestBed.token)/sendMessage", method: .POST, contentType: "application/json", body: Array(#"{"chat_id":5,"text":"nobody"}"#.utf8))
        #expect(answer.status == 400)
        #expect(answer.json["description"] as? String == "Bad Request: chat not found")
        #expect(answer.body == direct.body)
        #expect(answer.headers.first(name: "X-Tgrelay-Status") == "failed")
    }

    /// With `ledger.hash_chat_ids` the ledger keeps keyed chat ids, but the bot still gets Telegram's answer
    /// with the real ones: a delivery's result as sent, a refusal's code and description.
    @Test func answersKeepRealChatIDsWhenTheLedgerHashesThem() async throws {
        let bed = try await TestBed.rest(config: REST.config(["ledger": ["hash_chat_ids": true, "chat_key": "sixteen-bytes-or-more"]]))
        defer { Task { try await bed.shutdown() } }
        let sent = try await Self.json(bed, "sendMessage", ["chat_id": 42, "text": "keyed ledger"])
        #expect(sent.status == 200, "\(sent.text)")
        #expect((sent.result["chat"] as? [String: Any])?["id"] as? Int == 42)
        #expect(sent.result["message_id"] as? Int == bed.recordedSends.last?.messageID.map(Int.init))
        let id = try #require(sent.headers.first(name: "X-Tgrelay-Message-Id"))
        let rows = try await bed.http.json(.GET, bed.api + "/ledger?message_id=\(id)")["entries"] as? [[String: Any]] ?? []
        let body = try #require(rows.first?["response_body"] as? String)
        #expect(body.contains(#""chat":{"id":"hmac:"#) && !body.contains(#":42"#), "\(body)")

        var notFound = FakeFault(kind: .chatNotFound)
        notFound.chat = "5"
        _ = try bed.telegram.addFault(notFound)
        let refused = try await Self.json(bed, "sendMessage", ["chat_id": 5, "text": "nobody"])
        #expect(refused.status == 400)
        #expect(refused.json["ok"] as? Bool == false)
        #expect(refused.json["error_code"] as? Int == 400)
        #expect(refused.json["description"] as? String == "Bad Request: chat not found")
    }
}
