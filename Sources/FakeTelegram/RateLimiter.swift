import Foundation

/// Which limit a 429 enforced.
public enum FakeLimitKind: String, Sendable, CaseIterable {
    case privateChat = "private_chat"
    case groupChat = "group_chat"
    case bot = "bot"
    case paidBroadcast = "paid_broadcast"
}

/// Sliding-window flood control per bot, like Telegram's: a chat lane (private or group) and a
/// bot-wide lane (free or paid). A rejected send sets a penalty on the lane until the window frees;
/// every send into a lane during its penalty is rejected again and extends it (Telegram punishes
/// bots that ignore `retry_after`).
struct RateLimiter {
    struct Rejection: Equatable {
        var retryAfter: Int
        var kind: FakeLimitKind
        /// True when the lane was already penalized (the client ignored retry_after).
        var punished: Bool
    }

    private enum Lane: Hashable {
        case chat(bot: Int64, chat: Int64)
        case bot(Int64)
        case paid(Int64)
    }

    var limits: FakeLimits
    private var chatSends: [Lane: [Double]] = [:]
    private var botSends: [Int64: [Double]] = [:]
    private var penalties: [Lane: Double] = [:]

    init(limits: FakeLimits) {
        self.limits = limits
    }

    /// Admits a send (recording it) or says why not.
    mutating func admit(bot: Int64, chat: Int64, isPrivate: Bool, paid: Bool, now: Double) -> Rejection? {
        let chatLane = Lane.chat(bot: bot, chat: chat)
        let botLane: Lane = paid ? .paid(bot) : .bot(bot)
        let chatKind: FakeLimitKind = isPrivate ? .privateChat : .groupChat
        let botKind: FakeLimitKind = paid ? .paidBroadcast : .bot

        for (lane, kind) in [(chatLane, chatKind), (botLane, botKind)] {
            if let until = penalties[lane], now < until {
                let extended = until + limits.punishment.seconds
                penalties[lane] = extended
                return Rejection(retryAfter: units(extended - now), kind: kind, punished: true)
            }
        }

        if let rule = isPrivate ? limits.privateChat : limits.groupChat {
            var sends = chatSends[chatLane] ?? []
            prune(&sends, olderThan: now - rule.window.seconds)
            chatSends[chatLane] = sends
            if sends.count >= rule.count {
                return reject(lane: chatLane, kind: chatKind, freeAt: sends[sends.count - rule.count] + rule.window.seconds, now: now)
            }
        }

        var all = botSends[bot] ?? []
        let longest = max(limits.bot?.window.seconds ?? 0, limits.paidBroadcast?.window.seconds ?? 0)
        prune(&all, olderThan: now - longest)
        botSends[bot] = all
        if let rule = paid ? limits.paidBroadcast : limits.bot {
            let cutoff = now - rule.window.seconds
            let inWindow = all.count - (all.firstIndex { $0 > cutoff } ?? all.count)
            if inWindow >= rule.count {
                return reject(lane: botLane, kind: botKind, freeAt: all[all.count - rule.count] + rule.window.seconds, now: now)
            }
        }

        if (isPrivate ? limits.privateChat : limits.groupChat) != nil {
            chatSends[chatLane, default: []].append(now)
        }
        if longest > 0 {
            botSends[bot, default: []].append(now)
        }
        return nil
    }

    private mutating func reject(lane: Lane, kind: FakeLimitKind, freeAt: Double, now: Double) -> Rejection {
        let retryAfter = units(freeAt - now)
        penalties[lane] = now + Double(retryAfter) * limits.retryAfterUnit.seconds
        return Rejection(retryAfter: retryAfter, kind: kind, punished: false)
    }

    /// Seconds (in retry_after units) rounded up, at least 1.
    private func units(_ seconds: Double) -> Int {
        let unit = max(limits.retryAfterUnit.seconds, 1e-9)
        return max(1, Int((seconds / unit - 1e-9).rounded(.up)))
    }

    private func prune(_ sends: inout [Double], olderThan cutoff: Double) {
        if let keep = sends.firstIndex(where: { $0 > cutoff }) {
            if keep > 0 { sends.removeFirst(keep) }
        } else {
            sends.removeAll()
        }
    }
}
