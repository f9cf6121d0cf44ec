import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// Where a running relay is, for the commands that talk to it over its REST API.
/// The API key is read from the environment only, so it never shows in `ps` or shell history.
struct RelayAddress: ParsableArguments {
    @Option(help: "Base URL of the running relay (default: TGRELAY_URL or http://127.0.0.1:8080). The API key, if the relay has one, is read from TGRELAY_API_KEY.")
    var url: String?

    /// Runs `body` with a client for the relay and shuts the client down afterwards.
    func withAPI<T>(_ body: (RelayAPI) async throws -> T) async throws -> T {
        let environment = ProcessInfo.processInfo.environment
        let base = url ?? environment["TGRELAY_URL"].flatMap { $0.isEmpty ? nil : $0 } ?? "http://127.0.0.1:8080"
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        let api = RelayAPI(baseURL: base.hasSuffix("/") ? String(base.dropLast()) : base, apiKey: environment["TGRELAY_API_KEY"], http: http)
        do {
            let result = try await body(api)
            try await http.shutdown()
            return result
        } catch {
            try? await http.shutdown()
            throw error
        }
    }
}

/// A JSON client for the relay's REST API; an error answer becomes a `RelayAPIError` with the relay's message.
struct RelayAPI {
    let baseURL: String
    let apiKey: String?
    let http: HTTPClient

    /// Calls the API and returns the parsed JSON object (throws on any non-2xx answer).
    @discardableResult
    func call(_ method: HTTPMethod, _ path: String, body: Any? = nil) async throws -> [String: Any] {
        let (status, data) = try await raw(method, path, body: body)
        let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
        guard (200..<300).contains(status) else { throw RelayAPIError(status: status, body: object, path: path) }
        return object
    }

    private func raw(_ method: HTTPMethod, _ path: String, body: Any?) async throws -> (Int, Data) {
        let response: HTTPClientResponse
        do {
            response = try await http.execute(request(method, path, body: body), timeout: .seconds(60))
        } catch {
            throw ValidationError("cannot reach the relay at \(baseURL) (\(error)); is `tgrelay serve` running? Set --url or TGRELAY_URL.")
        }
        return (Int(response.status.code), Data(buffer: try await response.body.collect(upTo: 256 << 20)))
    }

    private func request(_ method: HTTPMethod, _ path: String, body: Any?) throws -> HTTPClientRequest {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        if let apiKey, !apiKey.isEmpty { request.headers.add(name: "Authorization", value: "Bearer \(apiKey)") }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: body)))
        }
        return request
    }

    /// `?key=value&…` of the non-nil values, percent-encoded.
    static func query(_ items: [(String, String?)]) -> String {
        var components = URLComponents()
        components.queryItems = items.compactMap { key, value in value.map { URLQueryItem(name: key, value: $0) } }
        guard let query = components.percentEncodedQuery, !query.isEmpty else { return "" }
        // "+" is a space in query strings; URLComponents leaves it alone.
        return "?" + query.replacingOccurrences(of: "+", with: "%2B")
    }
}

/// The relay answered with an error: its code and message, as the CLI prints them.
struct RelayAPIError: Error, CustomStringConvertible {
    var status: Int
    var body: [String: Any]
    var path: String

    var description: String {
        let error = body["error"] as? [String: Any] ?? [:]
        let message = error["message"] as? String ?? "HTTP \(status)"
        let code = error["code"] as? String
        let hint = status == 401 ? " (set TGRELAY_API_KEY to the relay's API key)" : ""
        return "the relay refused \(path): \(message)" + (code.map { " [\($0)]" } ?? "") + hint
    }
}

/// Plain-text tables for terminal output: columns padded to their widest cell.
enum TextTable {
    static func render(_ header: [String], _ rows: [[String]]) -> String {
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { $0.indices.contains(column) ? $0[column].count : 0 }.max() ?? 0 }
        return all.map { row in
            row.enumerated().map { index, cell in
                index == row.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }
}
