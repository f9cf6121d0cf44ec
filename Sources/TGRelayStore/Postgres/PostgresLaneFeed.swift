import Logging
import Foundation
import PostgresNIO
import TGRelayCore

/// LISTEN/NOTIFY on one channel. An accept or a replay notifies each lane it added to, in its own
/// transaction, so the notification is delivered at commit and never for work that was rolled back.
enum PostgresLaneFeed {
    static let channel = "tgrelay_lanes"
    /// Between bot and chat in a payload (neither a bot name nor a chat id contains a newline).
    static let separator: Character = "\n"

    static func notify(_ lanes: [LaneKey], _ connection: PostgresConnection, logger: Logger) async throws {
        let payloads = Array(Set(lanes.map { "\($0.bot)\(separator)\($0.chat)" }))
        guard !payloads.isEmpty else { return }
        try await connection.query(
            "SELECT pg_notify(\(channel), lane) FROM unnest(\(payloads)) AS lane", logger: logger)
    }

    static func lane(_ payload: String) -> LaneKey? {
        guard let split = payload.firstIndex(of: separator) else { return nil }
        return LaneKey(bot: String(payload[..<split]), chat: String(payload[payload.index(after: split)...]))
    }
}

extension PostgresMessageStore: LaneChangeFeed {
    public func watchLanes(onConnected: @escaping @Sendable () async -> Void, _ onLanes: @escaping @Sendable ([LaneKey]) async -> Void) async {
        while !Task.isCancelled {
            do {
                try await client.withConnection { connection in
                    try await connection.listen(on: PostgresLaneFeed.channel) { notifications in
                        await onConnected()
                        for try await notification in notifications {
                            if let lane = PostgresLaneFeed.lane(notification.payload) {
                                await onLanes([lane])
                            }
                        }
                    }
                }
            } catch {
                logger.warning("lane notifications interrupted; reconnecting", metadata: ["error": "\(StoreError.mapping(postgres: error))"])
            }
            try? await Task.sleep(for: .seconds(1))
        }
    }
}
