import AsyncHTTPClient
import Foundation
import Testing

@testable import FakeTelegram

/// An HTTP answer, decoded when it is JSON.
struct Reply: Sendable {
    var status: Int
    var contentType: String
    var body: String
    var json: FakeJSON?

    var ok: Bool { json?["ok"] == .bool(true) }
    var result: FakeJSON? { json?["result"] }
    var description: String? { json?["description"]?.stringValue }
    var retryAfter: Int64? { json?["parameters"]?["retry_after"]?.intValue }
}

/// A FakeTelegram on an ephemeral loopback port plus a client that talks real HTTP to it.
struct Harness: Sendable {
    let fake: FakeTelegram
    let token: String
    var bot: Int64 { BotRoute.botID(of: token)! }
    var base: String { fake.baseURL }

    static func run<T: Sendable>(
        _ configure: (inout FakeTelegramConfiguration) -> Void = { _ in },
        token: String = "123:abc",
        _ body: (Harness) async throws -> T
    ) async throws -> T {
        var configuration = FakeTelegramConfiguration()
        configure(&configuration)
        let fake = FakeTelegram(configuration: configuration)
        try await fake.start()
        do {
            let result = try await body(Harness(fake: fake, token: token))
            await fake.stop()
            return result
        } catch {
            await fake.stop()
            throw error
        }
    }

    /// Calls a method with a JSON body.
    func call(_ method: String, _ params: [String: FakeJSON] = [:], token: String? = nil, timeout: Duration = .seconds(10))
        async throws -> Reply
    {
        try await send(
            path: "/bot\(token ?? self.token)/\(method)", method: .POST, contentType: "application/json",
            body: Array(FakeJSON.object(params).serialized.utf8), timeout: timeout)
    }

    /// Calls a method with a urlencoded form.
    func form(_ method: String, _ fields: [(String, String)]) async throws -> Reply {
        let body = fields.map { "\(Self.encode($0.0))=\(Self.encode($0.1))" }.joined(separator: "&")
        return try await send(
            path: "/bot\(token)/\(method)", method: .POST, contentType: "application/x-www-form-urlencoded",
            body: Array(body.utf8))
    }

    /// Calls a method with GET and a query string.
    func query(_ method: String, _ fields: [(String, String)]) async throws -> Reply {
        let q = fields.map { "\(Self.encode($0.0))=\(Self.encode($0.1))" }.joined(separator: "&")
        return try await send(path: "/bot\(token)/\(method)?\(q)", method: .GET, contentType: nil, body: [])
    }

    /// Calls a method with multipart/form-data; `files` are (field, filename, bytes).
    func multipart(_ method: String, _ fields: [(String, String)], files: [(String, String, [UInt8])] = []) async throws
        -> Reply
    {
        let boundary = "----fakeTelegramBoundary7MA4YWxk"
        var body: [UInt8] = []
        for (name, value) in fields {
            body += Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n\(value)\r\n".utf8)
        }
        for (name, filename, bytes) in files {
            body += Array(
                "--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"; filename=\"\(filename)\"\r\nContent-Type: application/octet-stream\r\n\r\n"
                    .utf8)
            body += bytes + Array("\r\n".utf8)
        }
        body += Array("--\(boundary)--\r\n".utf8)
        return try await send(
            path: "/bot\(token)/\(method)", method: .POST, contentType: "multipart/form-data; boundary=\(boundary)", body: body)
    }

    /// Control API call.
    func control(_ method: HTTPMethodName, _ path: String, _ json: FakeJSON? = nil) async throws -> Reply {
        try await send(
            path: "/_fake/\(path)", method: method, contentType: json == nil ? nil : "application/json",
            body: json.map { Array($0.serialized.utf8) } ?? [])
    }

    enum HTTPMethodName: Sendable { case GET, POST, PUT, DELETE }

    func send(
        path: String, method: HTTPMethodName, contentType: String?, body: [UInt8], timeout: Duration = .seconds(10)
    ) async throws -> Reply {
        var request = HTTPClientRequest(url: base + path)
        switch method {
        case .GET: request.method = .GET
        case .POST: request.method = .POST
        case .PUT: request.method = .PUT
        case .DELETE: request.method = .DELETE
        }
        if let contentType { request.headers.add(name: "Content-Type", value: contentType) }
        if !body.isEmpty { request.body = .bytes(body) }
        let response = try await HTTPClient.shared.execute(request, timeout: .nanoseconds(Int64(timeout.seconds * 1e9)))
        let buffer = try await response.body.collect(upTo: 10 * 1024 * 1024)
        let text = String(buffer: buffer)
        return Reply(
            status: Int(response.status.code), contentType: response.headers.first(name: "Content-Type") ?? "",
            body: text, json: try? FakeJSON.parse(text))
    }

    static func encode(_ s: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return s.addingPercentEncoding(withAllowedCharacters: allowed) ?? s
    }
}

/// Limits where every rule is off except the ones a test sets.
func limits(
    privateChat: FakeLimitRule? = nil, groupChat: FakeLimitRule? = nil, bot: FakeLimitRule? = nil,
    paid: FakeLimitRule? = nil, unit: Duration = .milliseconds(100), punishment: Duration = .milliseconds(100)
) -> FakeLimits {
    FakeLimits(
        privateChat: privateChat, groupChat: groupChat, bot: bot, paidBroadcast: paid, retryAfterUnit: unit,
        punishment: punishment)
}

/// Waits until `condition` holds (polling), failing after `timeout`.
func eventually(
    timeout: Duration = .seconds(5), _ what: String = "condition", _ condition: @Sendable () async throws -> Bool
) async throws {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(20))
    }
    Issue.record("timed out waiting for \(what)")
}
