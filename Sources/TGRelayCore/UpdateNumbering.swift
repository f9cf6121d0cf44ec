import Foundation

/// The relay's numbering of a bot's inbound updates.
///
/// Telegram's `update_id`s increase by one, but after a week without updates they may start again from a
/// random value (TELEGRAM.md "Updates"). The relay's consumers confirm by offset, so the ids the relay
/// stores and serves must only grow: when Telegram's ids start again below what the relay has, the relay
/// stores each update under Telegram's id plus `shift`.
///
/// Telegram keeps an unconfirmed update at most 24 hours, so an update arriving more than that after the
/// last new one cannot be one the relay already has: a lower id then means a restart, not a re-delivery.
/// Within the horizon a lower id is a late or repeated delivery (webhooks run concurrently) and keeps its
/// number, so that duplicates are still recognised.
public struct UpdateNumbering: Sendable, Equatable {
    /// How long Telegram may send an update again: its retention of unconfirmed updates.
    public static let redeliveryHorizon: TimeInterval = 24 * 3600

    /// Added to Telegram's ids since its last restart of them.
    public var shift: Int64
    /// The highest id the relay stored (after shifting), nil before the first update.
    public var highest: Int64?
    /// When the relay last stored a new update.
    public var lastReceivedAt: Date?

    public init(shift: Int64 = 0, highest: Int64? = nil, lastReceivedAt: Date? = nil) {
        self.shift = shift
        self.highest = highest
        self.lastReceivedAt = lastReceivedAt
    }

    /// The shift for a batch with these Telegram ids arriving at `now`.
    public func shift(forTelegramIDs ids: [Int64], now: Date) -> Int64 {
        guard let highest, let lowest = ids.min(), lowest + shift <= highest else { return shift }
        let quiet = lastReceivedAt.map { now.timeIntervalSince($0) > Self.redeliveryHorizon } ?? true
        return quiet ? highest + 1 - lowest : shift
    }
}

extension InboundUpdate {
    /// The update as the relay stores it: its id, inside the JSON too, moved by `shift`.
    public func renumbered(by shift: Int64) -> InboundUpdate {
        guard shift != 0 else { return self }
        var copy = self
        copy.updateID = updateID + shift
        if case .object(var members)? = try? JSONParser.parse(json) {
            members["update_id"] = .number(JSONNumber(copy.updateID))
            copy.json = CanonicalJSON.serialize(.object(members))
        }
        return copy
    }
}
