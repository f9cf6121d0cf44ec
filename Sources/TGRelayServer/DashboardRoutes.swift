import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import TGRelayCore
import TGRelayStore

/// The operator dashboard at `/`: server-rendered HTML (see `DashboardAccess` for who may see it and how
/// forms are protected), sign-in and sign-out, and the dead-letter replay button.
struct DashboardRoutes {
    let store: any MessageStore
    let dispatcher: Dispatcher
    let access: DashboardAccess

    func register(on router: Router<RelayRequestContext>) {
        router.get("/") { request, context in
            switch access.check(request, context: context) {
            case .forbidden: return Self.forbidden
            case .needsLogin:
                let nonce = Self.nonce()
                return Self.html(DashboardTemplate.library.render(["nonce": nonce], withTemplate: "login") ?? "", nonce: nonce)
            case .allowed(let session):
                let query = request.uri.queryParameters
                let search = DashboardPage.Search(
                    message: query["message"].flatMap { Int64(String($0)) },
                    chat: query["chat"].flatMap { $0.isEmpty ? nil : String($0) })
                let flash = query["replayed"].map { "Message \($0) queued again; it goes out at the end of its chat's queue." }
                let nonce = Self.nonce()
                let page = try await storeCall {
                    try await DashboardPage(store: store, dispatcher: dispatcher).context(
                        now: Date(), search: search, csrf: access.csrfToken(session: session), nonce: nonce,
                        signedIn: access.requiresLogin, flash: flash)
                }
                return Self.html(DashboardTemplate.library.render(page, withTemplate: "page") ?? "", nonce: nonce)
            }
        }
        router.post("login") { request, _ in
            let form = try await Self.form(request)
            guard access.requiresLogin else { return Self.redirect("/") }
            guard let key = form["key"], access.isAPIKey(key) else {
                let nonce = Self.nonce()
                let page = DashboardTemplate.library.render(["nonce": nonce, "error": ["text": "Wrong API key."]], withTemplate: "login") ?? ""
                return Self.html(page, status: .unauthorized, nonce: nonce)
            }
            dispatcher.logger.info("dashboard sign-in")
            var response = Self.redirect("/")
            response.headers[.setCookie] = DashboardAccess.sessionCookie(access.newSession())
            return response
        }
        router.post("logout") { _, _ in
            var response = Self.redirect("/")
            response.headers[.setCookie] = DashboardAccess.clearedCookie
            return response
        }
        router.post("dashboard/dead-letters/:id/replay") { request, context in
            guard case .allowed(let session) = access.check(request, context: context) else { return Self.forbidden }
            let form = try await Self.form(request)
            guard access.isGenuinePost(request, session: session, token: form["csrf"]) else {
                return Self.html("<!doctype html><title>tgrelay</title><p>This form expired or came from another site. Reload the dashboard and try again.</p>", status: .forbidden)
            }
            guard let id = context.parameters.get("id", as: Int64.self) else {
                throw APIError.invalid("invalid_field", "id must be an integer", field: "id")
            }
            let replayed = try await storeCall { try await store.replay(ids: [id], now: Date()) }
            guard let message = replayed.first else { return Self.redirect("/#dead-letters") }
            await dispatcher.lanesChanged([message.lane])
            dispatcher.logger.info("dead letter replayed", metadata: ["id": "\(id)", "lane": "\(message.lane)", "by": "dashboard"])
            return Self.redirect("/?replayed=\(id)#dead-letters")
        }
    }

    /// A per-response nonce for the inline style and script, so the CSP can forbid every other script.
    static func nonce() -> String {
        Hex.encode(SymmetricKey(size: .bits128).withUnsafeBytes { Array($0) })
    }

    static func html(_ body: String, status: HTTPResponse.Status = .ok, nonce: String? = nil) -> Response {
        let sources = nonce.map { "'nonce-\($0)'" } ?? "'none'"
        let policy = "default-src 'none'; script-src \(sources); style-src \(sources); img-src data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
        return Response(
            status: status,
            headers: [
                .contentType: "text/html; charset=utf-8", .contentSecurityPolicy: policy, .cacheControl: "no-store",
                // same-origin, not no-referrer: with no-referrer Chromium sends `Origin: null` on form posts, which `isGenuinePost` refuses.
                HTTPField.Name("Referrer-Policy")!: "same-origin",
            ],
            body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    static var forbidden: Response {
        html("<!doctype html><title>tgrelay</title><p>No API key is configured: the dashboard answers only on loopback.</p>", status: .forbidden)
    }

    static func redirect(_ location: String) -> Response {
        Response(status: .seeOther, headers: [.location: location, .cacheControl: "no-store"])
    }

    /// An `application/x-www-form-urlencoded` body (small: a key or a token).
    static func form(_ request: Request) async throws -> [String: String] {
        let bytes = try await JSONBody.collect(request, limit: 1 << 14)
        var fields: [String: String] = [:]
        for pair in String(buffer: bytes).split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map { String($0).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? "" }
            if let name = parts.first { fields[name] = parts.count > 1 ? parts[1] : "" }
        }
        return fields
    }
}
