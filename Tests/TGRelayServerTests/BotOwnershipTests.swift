import Foundation
import Synchronization
import Testing

@testable import TGRelayServer

/// What the poller relies on: a bot's loop runs only while this node holds the bot's lease.
struct BotOwnershipTests {
    final class Runs: Sendable {
        let started = Atomic<Int>(0)
        let cancelled = Atomic<Int>(0)
    }

    @Test func aBotsLoopRunsWhileOwnedAndIsCancelledWhenTheLeaseGoes() async throws {
        let ownership = BotOwnership()
        let runs = Runs()
        let loop = Task {
            await ownership.whileOwned("alpha") {
                runs.started.add(1, ordering: .relaxed)
                while !Task.isCancelled { try? await Task.sleep(for: .milliseconds(5)) }
                runs.cancelled.add(1, ordering: .relaxed)
            }
        }
        try await Task.sleep(for: .milliseconds(50))
        #expect(runs.started.load(ordering: .relaxed) == 0, "not owned yet")
        ownership.set("beta", owned: true)
        try await Task.sleep(for: .milliseconds(50))
        #expect(runs.started.load(ordering: .relaxed) == 0, "another bot's lease")

        ownership.set("alpha", owned: true)
        #expect(try await waitFor { runs.started.load(ordering: .relaxed) == 1 })
        #expect(ownership.owns("alpha"))
        ownership.set("alpha", owned: false)
        #expect(try await waitFor { runs.cancelled.load(ordering: .relaxed) == 1 })

        // Taken again: a fresh run.
        ownership.set("alpha", owned: true)
        #expect(try await waitFor { runs.started.load(ordering: .relaxed) == 2 })
        // The caller's own cancellation (shutdown) ends it for good.
        loop.cancel()
        await loop.value
        #expect(runs.cancelled.load(ordering: .relaxed) == 2)
    }

    @Test func sideWorkOfBotsNoLongerConfiguredIsDoneByAnyNode() {
        let ownership = BotOwnership()
        var configuration = RelayConfiguration()
        configuration.bots = [.init(name: "alpha", token: "1:a"), .init(name: "beta", token: "2:b")]
        #expect(ownership.servedElsewhere(configuration) == ["alpha", "beta"])
        ownership.set("alpha", owned: true)
        // "removed" (owed work of a bot no longer configured) is never left to another node.
        #expect(ownership.servedElsewhere(configuration) == ["beta"])
    }

    private func waitFor(_ condition: @escaping () -> Bool) async throws -> Bool {
        for _ in 0..<200 where !condition() {
            try await Task.sleep(for: .milliseconds(10))
        }
        return condition()
    }
}
