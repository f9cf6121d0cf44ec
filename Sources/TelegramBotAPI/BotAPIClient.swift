import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import TGRelayCore

/// What came back from one Bot API call: an HTTP answer, or why there was none.
public enum BotAPIResponse: Sendable, Equatable {
    case answer(status: Int, body: [UInt8])
    case failure(BotAPIFailure)
}

/// Why a call has no answer. The split matters: only failures after the request may have reached
/// Telegram are ambiguous (Telegram has no idempotency for sends).
public enum BotAPIFailure: Sendable, Equatable {
    /// Nothing was sent: connection refused, DNS failure, connect timeout, TLS failure.
    case notSent(String)
    /// The request may have been delivered: read timeout, deadline passed, connection dropped mid-response.
    case mayHaveBeenSent(String)
}

/// A thin Bot API client: raw JSON through, typed only where the relay needs it.
///
/// URLs contain the bot token, so nothing here ever puts a URL or an underlying error text that
/// might contain one into a failure description.
public struct BotAPIClient: Sendable {
    public let httpClient: HTTPClient

    public init(httpClient: HTTPClient) {
        self.httpClient = httpClient
    }

    /// Calls `method` with a JSON body on `endpoint` (a base URL such as `https://api.telegram.org`).
    public func call(
        endpoint: String, token: String, method: String, json: [UInt8], timeout: Duration
    ) async -> BotAPIResponse {
        var request = HTTPClientRequest(url: Self.url(endpoint: endpoint, token: token, method: method))
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(bytes: json))
        return await execute(request, timeout: timeout)
    }

    /// Calls `method` as `multipart/form-data`: the text fields, then the uploaded files.
    public func callMultipart(
        endpoint: String, token: String, method: String, fields: [(String, String)], files: [FileUpload], timeout: Duration
    ) async -> BotAPIResponse {
        let boundary = MultipartBody.boundary(for: files, fields: fields)
        var request = HTTPClientRequest(url: Self.url(endpoint: endpoint, token: token, method: method))
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "multipart/form-data; boundary=\(boundary)")
        request.body = .bytes(MultipartBody.encode(fields: fields, files: files, boundary: boundary))
        return await execute(request, timeout: timeout)
    }

    /// Passes a request through unchanged (the proxy's non-send methods).
    public func forward(
        endpoint: String, token: String, method: String, httpMethod: HTTPMethod, contentType: String?,
        body: ByteBuffer?, query: String?, timeout: Duration
    ) async -> BotAPIResponse {
        var url = Self.url(endpoint: endpoint, token: token, method: method)
        if let query, !query.isEmpty { url += "?" + query }
        return await forward(url: url, httpMethod: httpMethod, contentType: contentType, body: body, timeout: timeout)
    }

    /// Downloads a file: `/file/bot<token>/<path>` on `endpoint`.
    public func downloadFile(endpoint: String, token: String, path: String, timeout: Duration) async -> BotAPIResponse {
        let base = endpoint.hasSuffix("/") ? String(endpoint.dropLast()) : endpoint
        return await forward(url: "\(base)/file/bot\(token)/\(path)", httpMethod: .GET, contentType: nil, body: nil, timeout: timeout)
    }

    private func forward(url: String, httpMethod: HTTPMethod, contentType: String?, body: ByteBuffer?, timeout: Duration) async -> BotAPIResponse {
        var request = HTTPClientRequest(url: url)
        request.method = httpMethod
        if let contentType { request.headers.add(name: "Content-Type", value: contentType) }
        if let body { request.body = .bytes(body) }
        return await execute(request, timeout: timeout)
    }

    static func url(endpoint: String, token: String, method: String) -> String {
        let base = endpoint.hasSuffix("/") ? String(endpoint.dropLast()) : endpoint
        return "\(base)/bot\(token)/\(method)"
    }

    private func execute(_ request: HTTPClientRequest, timeout: Duration) async -> BotAPIResponse {
        do {
            let response = try await httpClient.execute(request, timeout: .init(timeout))
            let body = try await response.body.collect(upTo: 64 << 20)
            return .answer(status: Int(response.status.code), body: Array(buffer: body))
        } catch {
            return .failure(Self.classify(error))
        }
    }

    /// Maps an HTTP client error to whether the request may have reached Telegram.
    static func classify(_ error: any Error) -> BotAPIFailure {
        if let error = error as? HTTPClientError {
            switch error {
            case .connectTimeout, .tlsHandshakeTimeout, .getConnectionFromPoolTimeout, .invalidURL, .emptyHost,
                .emptyScheme, .httpProxyHandshakeTimeout, .socksHandshakeTimeout:
                return .notSent("connect failed: \(error.shortDescription)")
            case .readTimeout, .deadlineExceeded:
                return .mayHaveBeenSent("timeout waiting for the answer")
            case .remoteConnectionClosed:
                return .mayHaveBeenSent("connection closed before the answer")
            default:
                return .mayHaveBeenSent("HTTP error: \(error.shortDescription)")
            }
        }
        if let error = error as? IOError {
            switch error.errnoCode {
            case ECONNREFUSED: return .notSent("connection refused")
            case ENETUNREACH, EHOSTUNREACH: return .notSent("network unreachable")
            case ECONNRESET, EPIPE: return .mayHaveBeenSent("connection reset")
            default: return .mayHaveBeenSent("I/O error \(error.errnoCode)")
            }
        }
        if error is NIOConnectionError {
            return .notSent("connection failed")
        }
        if let error = error as? ChannelError {
            switch error {
            case .connectTimeout: return .notSent("connect timeout")
            default: return .mayHaveBeenSent("channel error")
            }
        }
        if error is CancellationError {
            return .mayHaveBeenSent("cancelled")
        }
        return .mayHaveBeenSent("transport error")
    }
}

extension HTTPClientError {
    /// The error's kind without any request details.
    fileprivate var shortDescription: String {
        String(describing: self).replacingOccurrences(of: "HTTPClientError.", with: "")
    }
}
