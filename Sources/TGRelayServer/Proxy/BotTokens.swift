import Crypto
import Foundation

/// The configured bots by token. A presented token is compared with every configured one in constant time
/// (as SHA-256 digests, so the length does not show either): timing reveals neither a token nor which bot
/// it belongs to.
struct BotTokens: Sendable {
    private let bots: [(digest: SHA256.Digest, bot: RelayConfiguration.Bot)]

    init(_ bots: [RelayConfiguration.Bot]) {
        self.bots = bots.map { (SHA256.hash(data: Data($0.token.utf8)), $0) }
    }

    func bot(presenting token: String) -> RelayConfiguration.Bot? {
        let decoded = token.removingPercentEncoding ?? token
        let presented = SHA256.hash(data: Data(decoded.utf8))
        var match: RelayConfiguration.Bot?
        for entry in bots where APIKeyMiddleware.constantTimeEquals(entry.digest, presented) { match = entry.bot }
        return match
    }
}
