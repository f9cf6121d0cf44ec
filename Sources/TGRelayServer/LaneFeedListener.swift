import ServiceLifecycle
import TGRelayStore

/// Wakes the dispatcher when any node commits work for a bot this node holds (LISTEN/NOTIFY on
/// PostgreSQL): accepts and replays on other nodes reach the bot's lanes at once. After each (re)connect,
/// and every `rereadInterval` in case a notification went missing unnoticed, the held bots' lanes are
/// read from the store again.
struct LaneFeedListener: Service {
    let feed: any LaneChangeFeed
    let dispatcher: Dispatcher
    let rereadInterval: Duration = .seconds(30)

    func run() async throws {
        let (dispatcher, rereadInterval) = (dispatcher, rereadInterval)
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                group.addTask {
                    await feed.watchLanes(onConnected: { await dispatcher.rereadLanes() }) { lanes in
                        dispatcher.lanesChanged(lanes)
                    }
                }
                group.addTask {
                    while (try? await Task.sleep(for: rereadInterval)) != nil {
                        await dispatcher.rereadLanes()
                    }
                }
            }
        }
    }
}
