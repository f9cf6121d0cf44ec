import Foundation
import NIOSSL
import PostgresNIO

/// Where a PostgreSQL store connects, parsed from a `postgres://user:password@host:port/database?sslmode=…`
/// URL (libpq's form). The password is kept out of every description, so the settings can be logged.
public struct PostgresConnectionSettings: Sendable, CustomStringConvertible {
    /// libpq's `sslmode` values that matter here.
    public enum TLSMode: String, Sendable {
        /// Plain TCP.
        case disable
        /// TLS when the server offers it (libpq's default).
        case prefer
        /// TLS, without verifying the server's certificate (libpq's `require`).
        case require
        /// TLS with the certificate verified against the host name (libpq's `verify-full`).
        case verifyFull = "verify-full"
    }

    public var host: String
    public var port: Int
    public var username: String
    var password: String?
    public var database: String
    public var tls: TLSMode

    /// Parses a `postgres://` or `postgresql://` URL. Throws `StoreError.Code.invalidConfiguration`, whose
    /// description never repeats the URL (it may hold a password).
    public init(url: String) throws {
        guard let components = URLComponents(string: url),
              components.scheme == "postgres" || components.scheme == "postgresql",
              let host = components.host, !host.isEmpty
        else {
            throw StoreError(code: .invalidConfiguration, detail: "expected postgres://user:password@host:port/database")
        }
        self.host = host
        port = components.port ?? 5432
        username = components.user?.removingPercentEncoding ?? "postgres"
        password = components.password?.removingPercentEncoding
        let path = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        database = path.isEmpty ? username : (path.removingPercentEncoding ?? path)
        let mode = components.queryItems?.first { $0.name == "sslmode" }?.value ?? TLSMode.prefer.rawValue
        guard let tls = TLSMode(rawValue: mode) else {
            throw StoreError(code: .invalidConfiguration, detail: "sslmode must be disable, prefer, require or verify-full")
        }
        self.tls = tls
    }

    public var description: String {
        "postgres://\(username)\(password == nil ? "" : ":***")@\(host):\(port)/\(database)?sslmode=\(tls.rawValue)"
    }

    func clientConfiguration(maximumConnections: Int, connectTimeout: Duration) -> PostgresClient.Configuration {
        var configuration = PostgresClient.Configuration(
            host: host, port: port, username: username, password: password, database: database, tls: clientTLS)
        configuration.options.maximumConnections = max(2, maximumConnections)
        configuration.options.connectTimeout = connectTimeout
        // Ten-second keep-alives notice a dead server (restart, failover) before a caller has to.
        configuration.options.keepAliveBehavior = .init(frequency: .seconds(10))
        return configuration
    }

    private var clientTLS: PostgresClient.Configuration.TLS {
        switch tls {
        case .disable: return .disable
        case .prefer: return .prefer(.makeClientConfiguration())
        case .require:
            var unverified = TLSConfiguration.makeClientConfiguration()
            unverified.certificateVerification = .none
            return .require(unverified)
        case .verifyFull: return .require(.makeClientConfiguration())
        }
    }
}
