import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// A JSON answer from an HTTP call in a test.
struct JSONResponse: @unchecked Sendable {
    var status: Int
    var headers: [String: String]
    var body: Any

    subscript(key: String) -> Any? { (body as? [String: Any])?[key] }
    var object: [String: Any] { body as? [String: Any] ?? [:] }
    var error: [String: Any] { object["error"] as? [String: Any] ?? [:] }
}

extension HTTPClient {
    func json(
        _ method: HTTPMethod = .GET, _ url: String, body: Any? = nil, rawBody: String? = nil,
        headers: [String: String] = [:], timeout: TimeAmount = .seconds(30)
    ) async throws -> JSONResponse {
        var request = HTTPClientRequest(url: url)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: body)))
        } else if let rawBody {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: rawBody))
        }
        let response = try await execute(request, timeout: timeout)
        let bytes = try await response.body.collect(upTo: 256 << 20)
        let data = Data(buffer: bytes)
        let parsed = (try? JSONSerialization.jsonObject(with: data, options: .fragmentsAllowed)) ?? String(decoding: data, as: UTF8.self)
        var headerMap: [String: String] = [:]
        for header in response.headers { headerMap[header.name.lowercased()] = header.value }
        return JSONResponse(status: Int(response.status.code), headers: headerMap, body: parsed)
    }
}

/// Polls until `condition` holds or `timeout` passes; returns whether it held.
func eventually(timeout: Duration, every interval: Duration = .milliseconds(100), _ condition: () async throws -> Bool) async throws -> Bool {
    let clock = ContinuousClock()
    let end = clock.now + timeout
    while clock.now < end {
        if try await condition() { return true }
        try await Task.sleep(for: interval)
    }
    return try await condition()
}

/// A fresh directory for one test's store and logs.
func temporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("tgrelay-test-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}
