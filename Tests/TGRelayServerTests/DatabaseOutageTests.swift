import FakeTelegram
import Foundation
import Testing

/// PostgreSQL stopped and started under load (DESIGN.md "Several nodes", issue 7 item 3): while it is down,
/// accepts answer 503 with Retry-After (never 202 for what was not committed), the relay reconnects by
/// itself, and every message a client was told is accepted is delivered, in order per chat.
@Suite(.serialized, .enabled(if: TestPostgres.isEnabled))
struct DatabaseOutageTests {
    static let chats = 40
    static let perChat = 10

    @Test func databaseStoppedUnderLoadLosesNothing() async throws {
        let database = try TestPostgres()
        defer { database.drop() }
        let bed = try await TestBed(limits: .telegram, environment: ["TGRELAY_DATABASE": database.url])
        defer { Task { try await bed.shutdown() } }

        // Each chat's client sends its messages one after the other, as a client that wants them in order
        // must, and retries a 503 with the same idempotency key.
        // Down for longer than a store call may wait (5 s), so accepts that wait for it answer 503; a shorter
        // outage can be ridden out entirely by the pool's reconnect.
        async let outage: Void = {
            try await Task.sleep(for: .seconds(2))
            try database.stopServer()
            try await Task.sleep(for: .seconds(8))
            try database.startServer()
        }()
        let answers = try await withThrowingTaskGroup(of: ClientAnswers.self) { group in
            for chat in 0..<Self.chats {
                group.addTask { try await Self.sendInOrder(bed, chat: 7_000_000 + chat) }
            }
            return try await group.reduce(into: ClientAnswers()) { $0.merge($1) }
        }
        try await outage

        #expect(answers.unavailable > 0, "some accepts fell into the outage")
        #expect(answers.other.isEmpty, "only 202 or 503 + Retry-After: \(answers.other.prefix(3))")
        #expect(answers.ids.count == Self.chats * Self.perChat)
        let final = try await bed.waitFinal(answers.ids, timeout: .seconds(120))
        #expect(final.count == answers.ids.count)
        #expect(final.values.allSatisfy { $0["status"] as? String == "delivered" })
        let ambiguous = final.values.filter { $0["ambiguous"] as? Bool == true }.count
        var repeats = 0
        for chat in 0..<Self.chats {
            var collapsed: [String] = []
            for text in bed.deliveredTexts(chat: String(7_000_000 + chat)) {
                if collapsed.last == text { repeats += 1 } else { collapsed.append(text) }
            }
            #expect(collapsed == (0..<Self.perChat).map(String.init), "chat \(chat) out of order or incomplete")
        }
        #expect(repeats <= ambiguous, "a message sent twice is one flagged ambiguous")
        #expect(bed.telegram.stats().limitViolations == 0)
        let verify = try runProcess(RelayProcess.binary, ["ledger", "verify", "--database", database.url])
        #expect(verify.status == 0, "ledger verifies: \(verify.output)")
        print("database outage: \(answers.unavailable) accepts answered 503, \(ambiguous) ambiguous, \(repeats) repeats")
    }

    struct ClientAnswers: Sendable {
        var ids: [Int] = []
        var unavailable = 0
        var other: [String] = []

        mutating func merge(_ other: ClientAnswers) {
            ids += other.ids
            unavailable += other.unavailable
            self.other += other.other
        }
    }

    static func sendInOrder(_ bed: TestBed, chat: Int) async throws -> ClientAnswers {
        var answers = ClientAnswers()
        for index in 0..<perChat {
            let body: [String: Any] = ["chat_id": chat, "text": "\(index)", "idempotency_key": "\(chat)-\(index)"]
            while true {
                let response = try await bed.http.json(.POST, bed.api + "/messages", body: body, timeout: .seconds(30))
                if response.status == 202, let id = response["id"] as? Int {
                    answers.ids.append(id)
                    break
                }
                if response.status == 503, response.error["code"] as? String == "store_unavailable",
                    response.headers["retry-after"] != nil
                {
                    answers.unavailable += 1
                    try await Task.sleep(for: .milliseconds(300))
                    continue
                }
                answers.other.append("\(response.status) \(response.body)")
                return answers
            }
            try await Task.sleep(for: .milliseconds(500))
        }
        return answers
    }
}
