import Foundation
import NIOCore
import TGRelayStore

/// The ledger's JSON Lines form, shared by `GET /v1/ledger/export` and `tgrelay ledger export`.
public enum LedgerExport {
    /// One row and its newline.
    public static func line(_ entry: LedgerEntry) -> [UInt8] {
        var buffer = JSONBody.buffer(LedgerView.json(entry))
        buffer.writeString("\n")
        return Array(buffer.readableBytesView)
    }
}
