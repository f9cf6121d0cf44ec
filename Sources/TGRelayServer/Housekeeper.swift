import TGRelayCore
import Foundation
import Logging
import ServiceLifecycle
import TGRelayStore

/// Retention: at start and then every `retention.interval`, deletes ledger rows, finished messages and
/// settled callbacks older than `retention.maximumAge`. The ledger keeps an anchor (the last deleted row's
/// hash), so what remains still verifies; dead letters stay until replayed or purged.
struct Housekeeper: Service {
    let store: any MessageStore
    let maximumAge: TimeInterval
    let interval: TimeInterval
    let logger: Logger

    /// nil when retention is off (`retention.days` 0): nothing to run.
    init?(configuration: RelayConfiguration, store: any MessageStore, logger: Logger) {
        guard let age = configuration.retention.maximumAge else { return nil }
        self.store = store
        self.maximumAge = age
        self.interval = configuration.retention.interval
        self.logger = logger
    }

    func run() async throws {
        // Shutdown cancels the sleep; that is the normal way out.
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await prune(now: Date())
                try await Task.sleep(for: .seconds(interval))
            }
        }
    }

    /// One pass; failures are logged and retried at the next pass (nothing is deleted by a failed one).
    func prune(now: Date) async {
        let cutoff = now.addingTimeInterval(-maximumAge)
        do {
            let rows = try await store.pruneLedger(before: cutoff)
            let messages = try await store.pruneFinishedMessages(before: cutoff)
            if rows > 0 || messages > 0 {
                logger.info("retention: old rows deleted", metadata: [
                    "ledger_rows": "\(rows)", "messages": "\(messages)", "older_than": "\(UTCTimestamp.string(cutoff))",
                ])
            }
        } catch let error as StoreError where error.code == .ledgerBroken {
            logger.error("retention: the ledger does not verify, nothing was pruned; run `tgrelay ledger verify`")
        } catch {
            logger.warning("retention pass failed; retrying at the next pass", metadata: ["error": "\(error)"])
        }
    }
}
