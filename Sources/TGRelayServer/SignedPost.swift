import AsyncHTTPClient
import Foundation
import NIOCore

/// One POST to an operator's receiver, signed with `CallbackSignature` when a key is configured: used by
/// status callbacks and by the push of inbound updates, so both are verified the same way.
struct SignedPost: Sendable {
    let http: HTTPClient
    /// `callbacks.secret`; nil sends no signature headers.
    let secret: [UInt8]?
    let timeout: Duration

    /// Sends `body`; nil when the receiver answered 2xx, else why not (an HTTP status or a short error).
    func send(to url: String, body: [UInt8], event: String, headers extra: [(String, String)] = []) async -> String? {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "tgrelay")
        if let secret {
            let timestamp = Int64(Date().timeIntervalSince1970)
            request.headers.add(name: CallbackSignature.timestampHeader, value: String(timestamp))
            request.headers.add(name: CallbackSignature.signatureHeader, value: CallbackSignature.sign(secret: secret, timestamp: timestamp, body: body))
        }
        request.headers.add(name: CallbackSignature.eventHeader, value: event)
        for (name, value) in extra { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(bytes: body))
        do {
            let (seconds, attoseconds) = timeout.components
            let response = try await http.execute(request, timeout: .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000))
            // Read the answer so the connection can be reused; its content does not matter.
            _ = try? await response.body.collect(upTo: 64 << 10)
            guard (200..<300).contains(response.status.code) else { return "HTTP \(response.status.code)" }
            return nil
        } catch {
            return String(String(describing: error).prefix(200))
        }
    }
}
