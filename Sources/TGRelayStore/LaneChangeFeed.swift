import TGRelayCore

/// New work committed by any node, for stores shared by several nodes: the node that dispatches for a
/// bot learns of messages another node accepted. Best effort (a notification can be missed while
/// reconnecting): the dispatcher also polls `pendingLanes`.
public protocol LaneChangeFeed: Sendable {
    /// Calls `onLanes` with the lanes that got new work, until the task is cancelled; reconnects by
    /// itself when the database goes away, and calls `onConnected` each time it listens again (what was
    /// notified while it did not is lost: the caller re-reads its pending lanes then).
    func watchLanes(onConnected: @escaping @Sendable () async -> Void, _ onLanes: @escaping @Sendable ([LaneKey]) async -> Void) async
}
