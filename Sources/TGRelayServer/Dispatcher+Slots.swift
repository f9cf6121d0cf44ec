import DequeModule
import Foundation
import TGRelayCore

/// Rate-limit slots: a prepared send waits here until its lane and its bot may send, then leaves.
///
/// Waiters queue per bot in arrival order and one timer per bot hands the slots out as they come due.
/// With hundreds of sends prepared at a paid bot's 1,000/s, each sleeping until its own computed time
/// would wake all of them for every slot, one to go and the rest to sleep again.
extension Dispatcher {
    struct SlotWaiter {
        var lane: LaneKey
        /// The send carries `allow_paid_broadcast: true` (the bot's paid rate applies).
        var paid: Bool
        var continuation: CheckedContinuation<Date, Never>
    }

    /// Waits until `lane` may send without exceeding a limit, then records the send: the request leaves
    /// right after, so the limiter's log holds departure times. Returns the recorded departure time.
    func takeSlot(for lane: LaneKey, paid: Bool) async -> Date {
        guard let runtime = bots[lane.bot], runtime.enforceLimits else {
            donePreparing(lane)
            return Date()
        }
        let now = Date()
        if slotWaiters[lane.bot]?.isEmpty ?? true, runtime.limiter.earliestSend(for: lane, paidBroadcast: paid, now: now) <= now {
            grantSlot(lane, at: now)
            return now
        }
        return await withCheckedContinuation { continuation in
            slotWaiters[lane.bot, default: []].append(SlotWaiter(lane: lane, paid: paid, continuation: continuation))
            serveSlots(bot: lane.bot)
        }
    }

    private func grantSlot(_ lane: LaneKey, at now: Date) {
        bots[lane.bot]?.limiter.recordSend(lane: lane, at: now)
        donePreparing(lane)
    }

    /// Grants every slot that is due, in queue order, and sets the bot's timer for the next one. A waiter
    /// whose own chat must still wait (a 429 pause that came meanwhile) lets those behind it pass; once the
    /// bot-wide window is full for a kind of send (free or paid), later waiters of that kind are not looked at.
    private func serveSlots(bot: String) {
        guard var waiters = slotWaiters[bot], !waiters.isEmpty else { return }
        let now = Date()
        var next: Date?
        var botBlocked: [Bool: Date] = [:]
        var index = 0
        while index < waiters.count, botBlocked.count < 2, let limiter = bots[bot]?.limiter {
            let waiter = waiters[index]
            if botBlocked[waiter.paid] != nil {
                index += 1
                continue
            }
            let botTime = limiter.earliestBotSend(paidBroadcast: waiter.paid, now: now)
            if botTime > now {
                botBlocked[waiter.paid] = botTime
                index += 1
                continue
            }
            let earliest = limiter.earliestSend(for: waiter.lane, paidBroadcast: waiter.paid, now: now)
            if earliest <= now {
                grantSlot(waiter.lane, at: now)
                waiters.remove(at: index)
                waiter.continuation.resume(returning: now)
            } else {
                next = min(next ?? earliest, earliest)
                index += 1
            }
        }
        slotWaiters[bot] = waiters
        guard !waiters.isEmpty, let due = ([next].compactMap { $0 } + botBlocked.values).min() else { return }
        if let timer = slotTimers[bot], timer.at <= due { return }
        slotTimers[bot]?.task.cancel()
        let task = Task {
            try? await Task.sleep(for: .seconds(max(0, due.timeIntervalSinceNow)))
            if !Task.isCancelled { await self.slotTimerFired(bot: bot) }
        }
        slotTimers[bot] = (due, task)
    }

    private func slotTimerFired(bot: String) {
        slotTimers[bot] = nil
        serveSlots(bot: bot)
    }
}
