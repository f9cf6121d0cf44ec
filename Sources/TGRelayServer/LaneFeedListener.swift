import ServiceLifecycle
import TGRelayStore

/// Wakes the dispatcher when any node commits work for a bot this node holds (LISTEN/NOTIFY on
/// PostgreSQL): accepts and replays on other nodes reach the bot's lanes at once. After each (re)connect
/// the held bots' lanes are re-read from the store, since notifications sent meanwhile are lost.
struct LaneFeedListener: Service {
    let feed: any LaneChangeFeed
    let dispatcher: Dispatcher

    func run() async throws {
        let dispatcher = dispatcher
        try? await cancelWhenGracefulShutdown {
            await feed.watchLanes(onConnected: { await dispatcher.rereadLanes() }) { lanes in
                dispatcher.lanesChanged(lanes)
            }
        }
    }
}
