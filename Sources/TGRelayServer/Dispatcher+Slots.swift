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
        /// Resumed with the departure time, or nil when the bot's lease went meanwhile (`giveUp`).
        var continuation: CheckedContinuation<Date?, Never>
    }

    /// Waits until `lane` may send without exceeding a limit, then records the send: the request leaves
    /// right after, so the limiter's log holds departure times. Returns the recorded departure time, or nil
    /// when this node no longer holds the bot's lease: the send must not leave.
    func takeSlot(for lane: LaneKey, paid: Bool) async -> Date? {
        guard ownership.owns(lane.bot) else { return nil }
        guard let runtime = bots[lane.bot], runtime.enforceLimits else {
            donePreparing(lane)
            return Date()
        }
        let now = Date()
        if slotWaiters[lane.bot] == nil, runtime.limiter.earliestSend(for: lane, paidBroadcast: paid, now: now) <= now {
            grantSlot(lane, paid: paid, at: now)
            return now
        }
        return await withCheckedContinuation { continuation in
            slotWaiters[lane.bot, default: SlotQueues()].append(SlotWaiter(lane: lane, paid: paid, continuation: continuation))
            serveSlots(bot: lane.bot)
        }
    }

    private func grantSlot(_ lane: LaneKey, paid: Bool, at now: Date) {
        bots[lane.bot]?.limiter.recordSend(lane: lane, at: now, paidBroadcast: paid)
        donePreparing(lane)
    }

    /// Grants every slot that is due, in queue order per kind of send (free, paid), and sets the bot's
    /// timer for the next one. A waiter whose own chat must still wait (a 429 pause that came meanwhile)
    /// lets those behind it pass; once the bot-wide window is full for a kind, the rest of its queue waits.
    ///
    /// Runs for every slot: the bot's state is taken out of the dictionary while it is worked on, so the
    /// limiter is neither copied nor copied-on-write.
    private func serveSlots(bot: String) {
        guard var runtime = bots.removeValue(forKey: bot) else { return }
        var queues = slotWaiters.removeValue(forKey: bot) ?? SlotQueues()
        let now = Date()
        var due: Date?
        for paid in [false, true] {
            var index = 0
            while index < queues[paid: paid].count {
                let botTime = runtime.limiter.earliestBotSend(paidBroadcast: paid, now: now)
                if botTime > now {
                    due = min(due ?? botTime, botTime)
                    break
                }
                let lane = queues[paid: paid][index].lane
                let earliest = runtime.limiter.earliestSend(for: lane, paidBroadcast: paid, now: now)
                if earliest <= now {
                    runtime.limiter.recordSend(lane: lane, at: now, paidBroadcast: paid)
                    runtime.preparing.remove(lane)
                    queues[paid: paid].remove(at: index).continuation.resume(returning: now)
                } else {
                    due = min(due ?? earliest, earliest)
                    index += 1
                }
            }
        }
        bots[bot] = runtime
        guard !queues.isEmpty else { return }
        slotWaiters[bot] = queues
        guard let due else { return }
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

/// One bot's sends waiting for a slot: free and paid ones queue apart, since their bot-wide limits differ.
struct SlotQueues {
    private var free = Deque<Dispatcher.SlotWaiter>()
    private var paid = Deque<Dispatcher.SlotWaiter>()

    var isEmpty: Bool { free.isEmpty && paid.isEmpty }

    subscript(paid isPaid: Bool) -> Deque<Dispatcher.SlotWaiter> {
        get { isPaid ? paid : free }
        _modify {
            if isPaid { yield &paid } else { yield &free }
        }
    }

    mutating func append(_ waiter: Dispatcher.SlotWaiter) {
        self[paid: waiter.paid].append(waiter)
    }

    var all: [Dispatcher.SlotWaiter] { Array(free) + Array(paid) }
}
