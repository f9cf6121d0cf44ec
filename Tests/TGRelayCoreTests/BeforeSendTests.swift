import Foundation
import Testing
import TGRelayCore

@Suite struct BeforeSendTests {
    @Test func sendsWhenNothingStandsInTheWay() {
        #expect(DeliveryDecision.beforeSend(message: makeMessage(), now: at(0), chatInactiveReason: nil) == .send)
        #expect(DeliveryDecision.beforeSend(
            message: makeMessage(deadline: at(10), notBefore: at(5)), now: at(5), chatInactiveReason: nil) == .send)
    }

    @Test func neverSendsLate() {
        #expect(DeliveryDecision.beforeSend(message: makeMessage(deadline: at(10)), now: at(10), chatInactiveReason: nil)
            == .expire(reason: "deadline passed"))
        #expect(DeliveryDecision.beforeSend(message: makeMessage(deadline: at(10)), now: at(9.999), chatInactiveReason: nil)
            == .send)
    }

    @Test func inactiveChatsFailFast() {
        #expect(DeliveryDecision.beforeSend(
            message: makeMessage(), now: at(0), chatInactiveReason: "Forbidden: bot was blocked by the user")
            == .failFast(reason: "Forbidden: bot was blocked by the user"))
    }

    @Test func theDeadlineWinsOverAnInactiveChat() {
        #expect(DeliveryDecision.beforeSend(message: makeMessage(deadline: at(1)), now: at(2), chatInactiveReason: "Forbidden: x")
            == .expire(reason: "deadline passed"))
    }

    @Test func waitsForItsBackoff() {
        #expect(DeliveryDecision.beforeSend(message: makeMessage(notBefore: at(30)), now: at(20), chatInactiveReason: nil)
            == .wait(until: at(30)))
    }
}
