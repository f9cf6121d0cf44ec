import Crypto
import Foundation
import Hummingbird
import TGRelayCore

/// Who may see the dashboard, and proof that a form post came from it.
///
/// - No API key configured: loopback peers only, as for the REST API.
/// - With API keys: the browser signs in once with a key (`POST /login`) and gets a session cookie
///   (`HttpOnly`, `SameSite=Strict`, 12 hours) that is an HMAC of its expiry under a key made at start-up.
///   Nothing is stored; a restart signs everyone out. The API key itself never goes into the cookie, a URL
///   or the page.
/// - Every state-changing form carries a CSRF token: an HMAC of the session (or of "loopback") under the
///   same key, which a page of another origin cannot read. Posts whose `Origin` is another host are refused too.
struct DashboardAccess: Sendable {
    static let cookieName = "tgrelay_session"
    static let sessionLifetime: TimeInterval = 12 * 3600

    let keys: APIKeyMiddleware
    private let signingKey = SymmetricKey(size: .bits256)

    init(apiKeys: [String]) {
        keys = APIKeyMiddleware(keys: apiKeys)
    }

    var requiresLogin: Bool { !keys.keyDigests.isEmpty }

    enum Verdict {
        /// Allowed; `session` is the identity CSRF tokens are bound to.
        case allowed(session: String)
        case needsLogin
        case forbidden
    }

    func check(_ request: Request, context: RelayRequestContext, now: Date = Date()) -> Verdict {
        guard requiresLogin else {
            return context.remoteAddress.map(APIKeyMiddleware.isLoopback) ?? false ? .allowed(session: "loopback") : .forbidden
        }
        guard let cookie = Self.cookie(Self.cookieName, in: request), isValidSession(cookie, now: now) else { return .needsLogin }
        return .allowed(session: cookie)
    }

    /// Whether `presented` is one of the API keys (constant time, every key checked).
    func isAPIKey(_ presented: String) -> Bool {
        let digest = SHA256.hash(data: Data(presented.utf8))
        var matched = false
        for key in keys.keyDigests where APIKeyMiddleware.constantTimeEquals(key, digest) { matched = true }
        return matched
    }

    func newSession(now: Date = Date()) -> String {
        let expiry = String(Int(now.addingTimeInterval(Self.sessionLifetime).timeIntervalSince1970))
        return expiry + "." + sign("session|" + expiry)
    }

    func isValidSession(_ value: String, now: Date) -> Bool {
        let parts = value.split(separator: ".", maxSplits: 1).map(String.init)
        guard parts.count == 2, let expiry = TimeInterval(parts[0]), expiry > now.timeIntervalSince1970 else { return false }
        return Self.constantTimeEquals(sign("session|" + parts[0]), parts[1])
    }

    func csrfToken(session: String) -> String {
        sign("csrf|" + session)
    }

    /// A form post: a CSRF token matching the session, and no foreign `Origin`.
    func isGenuinePost(_ request: Request, session: String, token: String?) -> Bool {
        if let origin = request.headers[.origin], let host = request.head.authority {
            guard origin == "http://\(host)" || origin == "https://\(host)" else { return false }
        }
        guard let token else { return false }
        return Self.constantTimeEquals(csrfToken(session: session), token)
    }

    private func sign(_ text: String) -> String {
        Hex.encode(Array(HMAC<SHA256>.authenticationCode(for: Data(text.utf8), using: signingKey)))
    }

    private static func constantTimeEquals(_ a: String, _ b: String) -> Bool {
        let (x, y) = (Array(a.utf8), Array(b.utf8))
        guard x.count == y.count else { return false }
        return zip(x, y).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }

    static func cookie(_ name: String, in request: Request) -> String? {
        for header in request.headers[values: .cookie] {
            for pair in header.split(separator: ";") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                if parts.count == 2, parts[0].trimmingCharacters(in: .whitespaces) == name {
                    return parts[1].trimmingCharacters(in: .whitespaces)
                }
            }
        }
        return nil
    }

    static func sessionCookie(_ value: String) -> String {
        "\(cookieName)=\(value); Path=/; HttpOnly; SameSite=Strict; Max-Age=\(Int(sessionLifetime))"
    }

    static let clearedCookie = "\(cookieName)=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"
}
