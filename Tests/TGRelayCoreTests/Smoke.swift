import Testing
@testable import TGRelayCore
@Test func smoke() { #expect(Bool(true)) }
