import Foundation
import TGRelayCore
import TGRelayStore

/// Taking a bot's work over when its lease is won, and stopping when it is lost or handed off (`LeaseKeeper`).
extension Dispatcher {
    /// Starts dispatching for `bot`: what the previous holder (another node, or this one before a crash)
    /// left `sending` is retried as ambiguous, the rate limiter starts from the ledger's last minute, and
    /// the bot's lanes are paged in from the store. Throws (leaving the bot stopped) when the store fails.
    public func takeOver(_ bot: String) async throws {
        guard bots[bot] != nil, !ownership.owns(bot) else { return }
        // Sends of an earlier tenure on this node finish first: their messages are still `sending`, and a
        // lane must never have two sends at once.
        try await sendsHandedBack(bot)
        let now = Date()
        let recovered = try await store.recoverInterruptedSends(bot: bot, now: now)
        if recovered > 0 {
            logger.notice("messages left mid-send by the bot's previous holder will be retried as ambiguous", metadata: [
                "bot": "\(bot)", "count": "\(recovered)",
            ])
        }
        try await rememberRecentSends(bot: bot, now: now)
        for chat in try await store.inactiveChats(bot: bot) {
            inactiveChats[LaneKey(bot: chat.bot, chat: chat.chat)] = chat.reason
        }
        guard bots[bot] != nil, !ownership.owns(bot) else { return }
        // Lanes with work are paged in from the store as the window has room, never all at once.
        scheduler.leftInStore(bot: bot)
        ownership.set(bot, owned: true)
        wake()
    }

    /// Stops dispatching for `bot` at once: no send leaves after this returns. Sends waiting for a slot
    /// give their message back to its lane (no request left); sends already out finish and are recorded,
    /// which `giveUp` waits for until `deadline` when one is given (a hand-off, not a lost lease).
    public func giveUp(_ bot: String, waitingUntil deadline: Date? = nil) async {
        ownership.set(bot, owned: false)
        scheduler.forget(bot: bot)
        bots[bot]?.preparing = []
        slotTimers.removeValue(forKey: bot)?.task.cancel()
        for waiter in slotWaiters.removeValue(forKey: bot)?.all ?? [] {
            waiter.continuation.resume(returning: nil)
        }
        guard let deadline else { return }
        try? await sendsHandedBack(bot, before: deadline)
    }

    /// Waits until every lane of the bot popped for sending has been handed back (its send recorded or its
    /// message given back), or until `deadline`; throws when the task is cancelled.
    private func sendsHandedBack(_ bot: String, before deadline: Date = .distantFuture) async throws {
        while (bots[bot]?.inFlight ?? 0) > 0, Date() < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Work may have been committed without a notification reaching this node (`LaneFeedListener`
    /// reconnected): every held bot's lanes are read from the store again.
    func rereadLanes() {
        for bot in bots.keys where ownership.owns(bot) {
            scheduler.leftInStore(bot: bot)
        }
        wake()
    }

    /// Telegram still counts what was sent for the bot in the last minute (by this process before a
    /// restart, or by the node that held the lease): the limiter starts from the ledger's recent attempts,
    /// and the bot waits one bot-wide window for sends that left without a ledger row (in flight when
    /// their node died).
    private func rememberRecentSends(bot: String, now: Date) async throws {
        guard let runtime = bots[bot] else { return }
        var limiter = RateLimiter(limits: runtime.limiter.limits)
        let limits = limiter.limits
        let chats = try await pendingChatsByKeyedID(bot: bot)
        var query = LedgerQuery(bot: bot, since: now.addingTimeInterval(-max(limits.group.window, limits.bot.window) - 1), limit: 1000)
        while true {
            let page = try await store.ledger(query)
            for entry in page where entry.httpStatus != nil {
                let departed = entry.at.addingTimeInterval(-entry.durationMs / 1000)
                limiter.recordSend(lane: LaneKey(bot: entry.bot, chat: chats[entry.chat] ?? entry.chat), at: departed)
            }
            guard page.count == query.limit, let last = page.last else { break }
            query.afterSeq = last.seq
        }
        if runtime.enforceLimits { limiter.pauseBot(until: now.addingTimeInterval(limits.bot.window + limits.safetyMargin)) }
        bots[bot]?.limiter = limiter
    }

    /// With `ledger.hash_chat_ids` the ledger names chats by keyed ids: the chats of the bot's pending lanes
    /// by theirs, so that their recent sends count against their own limits too, not only the bot's.
    /// Empty without the key (the ledger's chats are the chats). At most the first 100,000 lanes, so that
    /// a takeover stays quick behind a broadcast to millions of chats; the others start from the bot-wide
    /// pause, which covers a private chat's window but not a group's minute.
    private func pendingChatsByKeyedID(bot: String) async throws -> [String: String] {
        guard let key = options.ledgerChatKey else { return [:] }
        var chats: [String: String] = [:]
        var after: LaneKey?
        for _ in 0..<100 {
            let page = try await store.pendingLanes(bot: bot, after: after, limit: 1000)
            for lane in page {
                chats[LedgerHash.keyedChat(lane.chat, key: key)] = lane.chat
            }
            guard page.count == 1000 else { break }
            after = page.last
        }
        return chats
    }
}
