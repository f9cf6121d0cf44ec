import Foundation

extension RelayConfiguration {
    /// This node among several sharing one PostgreSQL database (DESIGN.md "Several nodes"): bots are leased
    /// per node, so that one node at a time dispatches and polls for each.
    public struct Node: Sendable {
        /// Unique per node and stable across its restarts (a restarted node then takes its bots back at
        /// once instead of waiting for its old leases to lapse). Default: `hostname:port`.
        public var id: String?
        /// How long a lease lasts unless renewed: how long a dead node's bots wait for another node.
        public var leaseDuration: TimeInterval = 10

        public init() {}
    }

    /// `node.id` (env `TGRELAY_NODE_ID`), `node.lease_seconds` (env `TGRELAY_NODE_LEASE_SECONDS`, 2–60, default 10).
    mutating func loadNode(_ values: StrictValues) throws {
        if let id = try values.string("node.id") {
            guard !id.isEmpty, id.count <= 200 else { throw ConfigurationError(description: "\(StrictValues.name("node.id")): 1 to 200 characters") }
            node.id = id
        }
        node.leaseDuration = try values.double("node.lease_seconds", range: 2...60) ?? node.leaseDuration
    }

    /// The name this node's leases and heartbeats carry.
    public var nodeID: String {
        if let id = node.id { return id }
        var name = [CChar](repeating: 0, count: 256)
        let host = gethostname(&name, name.count) == 0 ? String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) : "tgrelay"
        return "\(host):\(listenPort)"
    }
}
