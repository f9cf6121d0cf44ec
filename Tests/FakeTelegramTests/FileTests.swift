import FakeTelegram
import Foundation
import Testing

/// Files as Telegram serves them: getFile on an uploaded file, then a download from /file/bot<token>/<path>.
@Suite struct FileTests {
    @Test func uploadedFilesAreDownloadableThroughGetFilesPath() async throws {
        try await Harness.run({ $0.limits = .off }) { h throws in
            let bytes = Array((0..<3000).map { UInt8(65 + $0 % 26) })
            let sent = try await h.multipart("sendDocument", [("chat_id", "42")], files: [("document", "report.txt", bytes)])
            let fileID = try #require(sent.result?["document"]?["file_id"]?.stringValue)

            let file = try await h.call("getFile", ["file_id": .string(fileID)])
            #expect(file.result?["file_size"] == 3000)
            let path = try #require(file.result?["file_path"]?.stringValue)
            #expect(path.hasPrefix("documents/file_") && path.hasSuffix(".txt"))
            let download = try await h.send(path: "/file/bot\(h.token)/\(path)", method: .GET, contentType: nil, body: [])
            #expect(download.status == 200)
            #expect(download.contentType == "application/octet-stream")
            #expect(download.body == String(decoding: bytes, as: UTF8.self))

            // Every size of an uploaded photo has a path; its bytes are the upload's.
            let photo = try await h.multipart("sendPhoto", [("chat_id", "42")], files: [("photo", "p.jpg", Array(bytes.prefix(10)))])
            let sizes = photo.result?["photo"]?.arrayValue ?? []
            #expect(sizes.count == 3)
            for size in sizes {
                let info = try await h.call("getFile", ["file_id": size["file_id"] ?? .null])
                #expect(info.result?["file_path"]?.stringValue?.hasPrefix("photos/") == true)
            }

            // Telegram's errors: unknown or missing file ids, unknown paths, another bot's files.
            let unknown = try await h.call("getFile", ["file_id": "AgACAgIAAxkBAAIBZ2Zfake_file_id-123"])
            #expect(unknown.status == 400)
            #expect(unknown.description == "Bad Request: wrong file_id or the file is temporarily unavailable")
            #expect(try await h.call("getFile").description == "Bad Request: invalid file_id")
            let missing = try await h.send(path: "/file/bot\(h.token)/documents/nope.txt", method: .GET, contentType: nil, body: [])
            #expect(missing.status == 404)
            #expect(missing.description == "Not Found")
            let otherBot = try await h.send(path: "/file/bot777:OTHER-token/\(path)", method: .GET, contentType: nil, body: [])
            #expect(otherBot.status == 404)
            #expect(h.fake.stats().requestsByMethod["file"] == 3)
        }
    }

    @Test func downloadsSeeFrontEndFaults() async throws {
        try await Harness.run({ $0.limits = .off }) { h throws in
            let sent = try await h.multipart("sendDocument", [("chat_id", "42")], files: [("document", "a.bin", [1, 2, 3])])
            let fileID = try #require(sent.result?["document"]?["file_id"]?.stringValue)
            let path = try #require(try await h.call("getFile", ["file_id": .string(fileID)]).result?["file_path"]?.stringValue)
            var outage = FakeFault(kind: .outage)
            outage.method = "file"
            outage.count = 1
            _ = try h.fake.addFault(outage)
            #expect(try await h.send(path: "/file/bot\(h.token)/\(path)", method: .GET, contentType: nil, body: []).status == 502)
            #expect(try await h.send(path: "/file/bot\(h.token)/\(path)", method: .GET, contentType: nil, body: []).status == 200)
        }
    }

    /// A 429 for a method that is not a send, when the fault names it (a bare 429 fault is for sends).
    @Test func tooManyRequestsFaultsNamingAMethodApplyToOtherMethods() async throws {
        try await Harness.run({ $0.limits = .off }) { h throws in
            var throttled = FakeFault(kind: .tooManyRequests)
            throttled.method = "getChat"
            throttled.retryAfter = 3
            throttled.count = 1
            _ = try h.fake.addFault(throttled)
            var bare = FakeFault(kind: .tooManyRequests)
            bare.count = 1
            _ = try h.fake.addFault(bare)
            #expect(try await h.call("getMe").ok)
            let first = try await h.call("getChat", ["chat_id": 42])
            #expect(first.status == 429)
            #expect(first.retryAfter == 3)
            #expect(try await h.call("getChat", ["chat_id": 42]).ok)
            #expect(try await h.call("sendMessage", ["chat_id": 42, "text": "x"]).status == 429, "the bare fault waited for a send")
        }
    }
}
