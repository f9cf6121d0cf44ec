import Foundation

/// The ledger chain's links and the checks of a walk over its rows, shared by every driver so that a
/// ledger verifies the same wherever it is stored.
struct LedgerLink: Sendable {
    var seq: Int64
    var hash: String
}

extension LedgerEntry {
    /// The row an attempt appends after `head`; bot, chat, method and payload hash come from the message row.
    /// Normalized to the stored precision before hashing, so that the hash covers exactly what is kept.
    init(
        appending attempt: AttemptRecord, after head: LedgerLink, bot: String, chat: String, method: String,
        payloadHash: String, chatKey: [UInt8]?
    ) {
        self.init(
            seq: head.seq + 1, at: Date(storeMillis: attempt.at.storeMillis), messageID: attempt.messageID,
            bot: bot, chat: LedgerHash.keyedChat(chat, key: chatKey), method: method,
            payloadHash: payloadHash, endpoint: attempt.endpoint, httpStatus: attempt.httpStatus, ok: attempt.ok,
            errorCode: attempt.errorCode, description: attempt.description, retryAfter: attempt.retryAfter,
            telegramMessageIDs: attempt.telegramMessageIDs,
            durationMs: Double(LedgerHash.durationMicros(attempt.durationMs)) / 1000,
            responseBody: LedgerHash.keyedBody(attempt.responseBody, key: chatKey), outcome: attempt.outcome,
            ambiguous: attempt.ambiguous, prevHash: head.hash, hash: "")
        hash = LedgerHash.compute(self)
    }
}

/// Walks rows after `anchor` up to `last` in seq order, one row at a time, recomputing each hash. With
/// `expectedHead`, also checks that the chain ends where the head says, which catches rows deleted at the
/// end or appended behind the store's back.
struct LedgerChainWalk {
    let anchor: LedgerLink
    let last: Int64
    let expectedHead: LedgerLink?
    private var expectedSeq: Int64
    private var previousHash: String

    init(from anchor: LedgerLink, through last: Int64, expectedHead: LedgerLink?) {
        self.anchor = anchor
        self.last = last
        self.expectedHead = expectedHead
        expectedSeq = anchor.seq + 1
        previousHash = anchor.hash
    }

    /// The highest seq the rows to walk may have (the caller selects `seq <= upperBound ORDER BY seq`).
    var upperBound: Int64 { expectedHead == nil ? last : Int64.max }

    /// Checks the next row; returns the verdict when it breaks the chain.
    mutating func check(_ entry: LedgerEntry) -> LedgerVerification? {
        if entry.seq < expectedSeq {
            return .broken(atSeq: entry.seq, reason: "row at or before the anchor")
        }
        if entry.seq > expectedSeq {
            return .broken(atSeq: expectedSeq, reason: "row missing")
        }
        if let head = expectedHead, entry.seq > head.seq {
            return .broken(atSeq: entry.seq, reason: "row after the recorded head")
        }
        if entry.prevHash != previousHash {
            return .broken(atSeq: entry.seq, reason: "previous hash does not match the previous row")
        }
        if LedgerHash.compute(entry) != entry.hash {
            return .broken(atSeq: entry.seq, reason: "row content does not match its hash")
        }
        previousHash = entry.hash
        expectedSeq += 1
        return nil
    }

    /// The verdict once every row was checked.
    func finish() -> LedgerVerification {
        let lastSeen = expectedSeq - 1
        if lastSeen < last {
            return .broken(atSeq: expectedSeq, reason: "row missing")
        }
        if let head = expectedHead, previousHash != head.hash {
            return .broken(atSeq: lastSeen, reason: "last row does not match the recorded head")
        }
        return .valid(rows: lastSeen - anchor.seq)
    }
}
