import Foundation
import TGRelayCore
import Testing
import TGRelayStore

@Suite("Conformance: proxy uploads and payload dedup")
struct ProxyConformanceTests {
    static let photo = FileUpload(field: "photo", fileName: "p.png", contentType: "image/png", data: Array(0..<200).map { UInt8($0) })

    func withUpload(_ text: String, window: TimeInterval? = nil, uploads: [FileUpload] = [photo]) -> NewMessage {
        var message = newMessage(text)
        message.uploads = uploads
        message.dedupWindow = window
        return message
    }

    @Test(arguments: Driver.allCases)
    func uploadsAreStoredDurablyAndReleasedOnceDelivered(driver: Driver) async throws {
        try await withStore(driver) { store, harness in
            let document = FileUpload(field: "thumbnail", fileName: nil, contentType: nil, data: [])
            let created = try await acceptOne(store, withUpload("a", uploads: [Self.photo, document]))
            #expect(created.uploadCount == 2)
            let plain = try await acceptOne(store, newMessage("b"))
            #expect(plain.uploadCount == 0)
            #expect(try await store.uploads(messageID: plain.id).isEmpty)

            // Reopened: the files are still there, in upload order.
            try await store.close()
            let reopened = try await harness.open()
            #expect(try await reopened.message(id: created.id)?.uploadCount == 2)
            #expect(try await reopened.uploads(messageID: created.id) == [Self.photo, document])
            #expect(try await reopened.laneHead(created.lane)?.uploadCount == 2)

            // A dead letter keeps them for a replay; delivery releases them.
            try await reopened.markSending(id: created.id, now: at(1))
            try await reopened.record(failed(created.id, reason: "Bad Request: nope"))
            #expect(try await reopened.uploads(messageID: created.id).count == 2)
            _ = try await reopened.replay(ids: [created.id], now: at(2))
            try await reopened.markSending(id: created.id, now: at(3))
            try await reopened.record(delivered(created.id, at: at(3)))
            #expect(try await reopened.uploads(messageID: created.id).isEmpty)
            #expect(try await reopened.message(id: created.id)?.uploadCount == 2)
            try await reopened.close()
        }
    }

    @Test(arguments: Driver.allCases)
    func aPurgedDeadLetterTakesItsUploadsAlong(driver: Driver) async throws {
        try await withStore(driver) { store, _ in
            let dead = try await acceptOne(store, withUpload("dead"))
            let kept = try await acceptOne(store, withUpload("kept", uploads: [Self.photo]))
            try await store.markSending(id: dead.id, now: at(1))
            try await store.record(failed(dead.id, reason: "Bad Request: chat not found", at: at(2)))
            #expect(try await store.uploads(messageID: dead.id) == [Self.photo], "kept for a replay")
            #expect(try await store.purge(ids: [dead.id]) == [dead.id])
            #expect(try await store.uploads(messageID: dead.id).isEmpty)
            #expect(try await store.uploads(messageID: kept.id) == [Self.photo], "another message's uploads stay")
        }
    }

    @Test(arguments: Driver.allCases)
    func identicalPayloadAttachesWhilePendingAndWithinTheWindow(driver: Driver) async throws {
        try await withStore(driver) { store, _ in
            let first = try await acceptOne(store, withUpload("a", window: 60))
            // Pending: however late, the same payload is the same message.
            #expect(try await store.accept([withUpload("a", window: 60)], now: at(500)) == [.existing(first)])
            // Another payload, or no window, is a new message.
            _ = try await acceptOne(store, withUpload("other", window: 60))
            _ = try await acceptOne(store, withUpload("a"))

            try await store.markSending(id: first.id, now: at(501))
            try await store.record(delivered(first.id, at: at(502)))
            guard case .existing(let attached)? = try await store.accept([withUpload("a", window: 60)], now: at(561)).first else {
                Issue.record("a resend within the window after delivery must attach")
                return
            }
            #expect(attached.id == first.id)
            #expect(attached.status == .delivered)
            // After the window, the same payload is sent again (a bot's daily "good morning").
            let later = try await acceptOne(store, withUpload("a", window: 60), now: at(563))
            #expect(later.id != first.id)
            #expect(try await store.accept([withUpload("a", window: 60)], now: at(564)) == [.existing(later)])
            // Payload hashes are scoped per bot.
            var otherBot = withUpload("a", window: 60)
            otherBot.bot = "bot2"
            _ = try await acceptOne(store, otherBot, now: at(564))
        }
    }
}
