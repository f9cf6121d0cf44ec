import Foundation
import Testing
@testable import TGRelayCore

@Suite struct AlertAnnouncerTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)
    func at(_ seconds: TimeInterval) -> Date { t0.addingTimeInterval(seconds) }

    func alert(_ kind: AlertKind, _ bot: String, since: TimeInterval = 0) -> Alert {
        Alert(key: AlertKey(kind: kind, bot: bot), since: at(since), detail: "\(kind.rawValue) of \(bot)")
    }

    func active(_ alerts: Alert...) -> [AlertKey: Alert] {
        Dictionary(uniqueKeysWithValues: alerts.map { ($0.key, $0) })
    }

    @Test func raisesOnlyForHeldBotsAndResolvesOnce() {
        var announcer = AlertAnnouncer()
        let mine = alert(.queueDepth, "a")
        let theirs = alert(.queueDepth, "b")
        #expect(announcer.changes(active: active(mine, theirs), holds: { $0 == "a" }, now: at(1)) == [.raised(mine)])
        // Evaluated again while nothing changed: nothing to say.
        #expect(announcer.changes(active: active(mine, theirs), holds: { $0 == "a" }, now: at(2)).isEmpty)
        #expect(announcer.changes(active: active(theirs), holds: { $0 == "a" }, now: at(3)) == [.resolved(mine, at: at(3))])
        #expect(announcer.changes(active: [:], holds: { $0 == "a" }, now: at(4)).isEmpty)
        #expect(announcer.announced.isEmpty)
    }

    @Test func aBotMovingAwayClosesWhatThisNodeAnnounced() {
        var announcer = AlertAnnouncer()
        let circuit = alert(.circuitOpen, "a")
        _ = announcer.changes(active: active(circuit), holds: { _ in true }, now: at(1))
        #expect(announcer.changes(active: active(circuit), holds: { _ in false }, now: at(2)) == [.handedOver(circuit, at: at(2))])
        // Taken back later while the alert still holds: raised again, as a new occurrence would be.
        #expect(announcer.changes(active: active(circuit), holds: { _ in true }, now: at(3)) == [.raised(circuit)])
    }

    @Test func aTakeoverRaisesWhatHoldsThen() {
        var announcer = AlertAnnouncer()
        let depth = alert(.queueDepth, "a", since: 0)
        #expect(announcer.changes(active: active(depth), holds: { _ in false }, now: at(1)).isEmpty)
        #expect(announcer.changes(active: active(depth), holds: { _ in true }, now: at(5)) == [.raised(depth)])
    }

    /// An alert that ended and began again between two looks is two occurrences: the old one is resolved
    /// before the new one is raised.
    @Test func aNewOccurrenceResolvesTheOldOneFirst() {
        var announcer = AlertAnnouncer()
        let first = alert(.tokenRevoked, "a", since: 0)
        let second = alert(.tokenRevoked, "a", since: 10)
        _ = announcer.changes(active: active(first), holds: { _ in true }, now: at(1))
        #expect(announcer.changes(active: active(second), holds: { _ in true }, now: at(11)) == [.resolved(first, at: at(11)), .raised(second)])
    }
}
