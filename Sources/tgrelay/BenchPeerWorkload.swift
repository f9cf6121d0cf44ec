import FakeTelegram
import Foundation

/// What every sender in `bench peers` is asked to deliver: a broadcast to private chats with messages
/// to a few groups spread evenly through it. Texts are numbered ("peers message 17") so that loss,
/// duplicates and per-chat order can be read back from what the simulator received.
struct PeerWorkload: Sendable {
    let privates: Int
    let groups: Int
    let perGroup: Int
    /// The chat of message i.
    let chats: [Int64]
    static let label = "peers"

    init(privates: Int, groups: Int, perGroup: Int) {
        self.privates = privates
        self.groups = groups
        self.perGroup = perGroup
        let total = privates + groups * perGroup
        let groupMessages = groups * perGroup
        var chats: [Int64] = []
        chats.reserveCapacity(total)
        var groupSent = 0
        var privateSent = 0
        for i in 0..<total {
            // Bresenham: exactly `groupMessages` of `total` go to groups, evenly spaced, round robin.
            if (i + 1) * groupMessages / max(total, 1) > groupSent {
                chats.append(Self.groupID(groupSent % groups))
                groupSent += 1
            } else {
                chats.append(Self.privateID(privateSent))
                privateSent += 1
            }
        }
        self.chats = chats
    }

    /// The workload: 3,000 private chats and 600 messages to 3 groups, times `scale`.
    init(scale: Double) {
        self.init(privates: Int((3000 * scale).rounded()), groups: 3, perGroup: max(1, Int((200 * scale).rounded())))
    }

    var total: Int { chats.count }

    static func privateID(_ n: Int) -> Int64 { 1_000_001 + Int64(n) }
    static func groupID(_ n: Int) -> Int64 { -1_001_000_000_001 - Int64(n) }

    /// The same text the relay's batch bodies carry (`BenchBodies`).
    static func text(_ index: Int) -> String { "\(label) message \(index)" }

    /// The sequence number back from a delivered text.
    static func index(of text: String) -> Int? {
        guard text.hasPrefix(label + " message ") else { return nil }
        return text.split(separator: " ").last.flatMap { Int($0) }
    }

    /// One `[chat_id, text]` JSON array per line: the peer script's input.
    func jsonLines() -> String {
        chats.enumerated().map { "[\($1),\"\(Self.text($0))\"]" }.joined(separator: "\n") + "\n"
    }

    /// The shortest time from the first to the last delivery that the simulator's limits
    /// (FakeLimits.telegram) allow: `bot` sends in any `botWindow`, `group` sends per group in any
    /// `groupWindow`, sliding windows on arrival. Group message k can arrive no earlier than message
    /// k − 20 of the same group plus 60 s; the first window's messages of every group share the
    /// bot-wide limit with each other.
    func physicalMinimum(bot: Int = 30, botWindow: Double = 1, group: Int = 20, groupWindow: Double = 60) -> Double {
        let botBound = Double((total - 1) / bot) * botWindow
        guard groups > 0, perGroup > 0 else { return botBound }
        let fullWindows = Double((perGroup - 1) / group)
        // Messages 0…r of every group precede the chains that end each group; r = (perGroup − 1) mod 20.
        let firstWindow = groups * ((perGroup - 1) % group + 1)
        let groupBound = fullWindows * groupWindow + Double((firstWindow - 1) / bot) * botWindow
        return max(botBound, groupBound)
    }

    /// The same with consecutive sends to a group at least `groupSpacing` apart (the simulator does not
    /// enforce such spacing; tgrelay paces groups by `options.group_spacing_seconds`).
    func minimum(groupSpacing: Double, bot: Int = 30, group: Int = 20, groupWindow: Double = 60) -> Double {
        let botBound = Double((total - 1) / bot)
        guard groups > 0, perGroup > 0 else { return botBound }
        let groupBound = Double((perGroup - 1) / group) * groupWindow + Double((perGroup - 1) % group) * groupSpacing
        return max(botBound, groupBound)
    }
}

/// What one sender delivered, read back from the simulator's record.
struct PeerDeliveries: Sendable {
    var distinct = 0
    var duplicates = 0
    /// Deliveries whose number is lower than one already delivered to the same chat.
    var orderViolations = 0
    var first: Date?
    var last: Date?
    /// The last delivery to a private chat: those drain at the bot-wide rate, groups at 20 per minute.
    var lastPrivate: Date?

    init(_ messages: [FakeRecordedMessage]) {
        var seen = Set<Int>()
        var highest: [Int64: Int] = [:]
        for message in messages {
            guard let text = message.params["text"]?.stringValue, let index = PeerWorkload.index(of: text) else { continue }
            first = min(first ?? message.receivedAt, message.receivedAt)
            last = max(last ?? message.receivedAt, message.receivedAt)
            if message.chatID > 0 { lastPrivate = max(lastPrivate ?? message.receivedAt, message.receivedAt) }
            guard seen.insert(index).inserted else {
                duplicates += 1
                continue
            }
            distinct += 1
            if let before = highest[message.chatID], before > index { orderViolations += 1 }
            highest[message.chatID] = max(highest[message.chatID] ?? index, index)
        }
    }

    /// Seconds from the first to the last delivery.
    var span: Double {
        guard let first, let last else { return 0 }
        return last.timeIntervalSince(first)
    }
}
