import Crypto
import Foundation
import Hummingbird
import NIOCore

/// The request context: Hummingbird's core storage plus the peer address for the loopback rule.
public struct RelayRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.remoteAddress = source.channel.remoteAddress
    }

    /// Bodies are bounded by our own limit (413 with a JSON error), not Hummingbird's default.
    public var maxUploadSize: Int { 64 << 20 }
}

/// Bearer-key authentication for the REST API. With no keys configured, only loopback peers are served.
struct APIKeyMiddleware: RouterMiddleware {
    typealias Context = RelayRequestContext
    /// SHA-256 of each key: comparing fixed-length digests in constant time hides the key's length too.
    let keyDigests: [SHA256.Digest]

    init(keys: [String]) {
        keyDigests = keys.map { SHA256.hash(data: Data($0.utf8)) }
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if keyDigests.isEmpty {
            guard context.remoteAddress.map(Self.isLoopback) ?? false else {
                throw APIError(.forbidden, code: "loopback_only", message: "no API key is configured: the REST API answers only on loopback")
            }
            return try await next(request, context)
        }
        guard let presentedKey = request.headers[.authorization].flatMap(Self.bearerToken) else {
            throw APIError(.unauthorized, code: "unauthorized", message: "missing API key: send Authorization: Bearer <key>", field: "Authorization")
        }
        let presented = SHA256.hash(data: Data(presentedKey.utf8))
        // Check every key, so timing does not reveal which one matched.
        var matched = false
        for digest in keyDigests where Self.constantTimeEquals(digest, presented) { matched = true }
        guard matched else {
            throw APIError(.unauthorized, code: "unauthorized", message: "wrong API key", field: "Authorization")
        }
        return try await next(request, context)
    }

    /// The credentials of `Bearer <key>`; the scheme name is case-insensitive (RFC 9110 §11.1).
    static func bearerToken(_ header: String) -> Substring? {
        let scheme = "bearer "
        guard header.count > scheme.count, header.prefix(scheme.count).lowercased() == scheme else { return nil }
        return header.dropFirst(scheme.count)
    }

    static func constantTimeEquals(_ a: SHA256.Digest, _ b: SHA256.Digest) -> Bool {
        var difference: UInt8 = 0
        for (x, y) in zip(a, b) { difference |= x ^ y }
        return difference == 0
    }

    static func isLoopback(_ address: SocketAddress) -> Bool {
        switch address {
        case .v4: return address.ipAddress?.hasPrefix("127.") ?? false
        case .v6: return address.ipAddress == "::1" || (address.ipAddress?.hasPrefix("::ffff:127.") ?? false)
        case .unixDomainSocket: return true
        }
    }
}
