import Foundation
import Hummingbird
import NIOCore

/// Files uploaded with sends, served back as Telegram serves them: `getFile` answers a `File` with a
/// `file_path`, and `GET /file/bot<token>/<file_path>` downloads the bytes. Only uploads have bytes here,
/// so a file sent by URL or file_id (or one in an injected update) is unknown to `getFile`, as a file
/// Telegram no longer keeps would be.
struct FileBook {
    struct File {
        var bot: Int64
        var uniqueID: String
        var path: String
        var data: [UInt8]
    }

    /// Bots may download files up to 20 MB; `getFile` refuses larger ones.
    static let downloadLimit = 20 << 20
    /// Bytes kept at most: beyond it the oldest uploads are forgotten ("temporarily unavailable").
    static let capacity = 64 << 20

    /// Telegram's folder in `file_path` for each kind of media.
    static let folders = [
        "photo": "photos", "document": "documents", "video": "videos", "audio": "music", "voice": "voice",
        "animation": "animations", "sticker": "stickers", "video_note": "video_notes",
    ]

    private var byID: [String: File] = [:]
    /// "bot/path" → the file ids that share it (every size of one uploaded photo) and the upload's size.
    private var byPath: [String: (ids: [String], size: Int)] = [:]
    private var order: [String] = []
    private var bytes = 0
    private var uploads = 0

    /// Keeps an upload under every file_id the sent message shows for it (`media`: the message's
    /// photo sizes, document, video, …).
    mutating func add(bot: Int64, kind: String, media: FakeJSON?, upload: UploadedFile) {
        let ids = Self.fileIDs(in: media)
        guard !upload.data.isEmpty, !ids.isEmpty else { return }
        let fileExtension = upload.fileName.flatMap { name in name.contains(".") ? name.split(separator: ".").last.map(String.init) : nil }
        let path = "\(Self.folders[kind] ?? kind + "s")/file_\(uploads)" + (fileExtension.map { "." + $0 } ?? "")
        uploads += 1
        for (id, unique) in ids {
            byID[id] = File(bot: bot, uniqueID: unique, path: path, data: upload.data)
        }
        let key = "\(bot)/\(path)"
        byPath[key] = (ids.map(\.id), upload.data.count)
        order.append(key)
        bytes += upload.data.count
        while bytes > Self.capacity, !order.isEmpty {
            let oldest = order.removeFirst()
            bytes -= forget(oldest)
        }
    }

    /// Drops the files at `key` ("bot/path"); returns the bytes freed. An id that a later upload of the
    /// same bytes took over stays.
    private mutating func forget(_ key: String) -> Int {
        guard let entry = byPath.removeValue(forKey: key) else { return 0 }
        for id in entry.ids where byID[id].map({ "\($0.bot)/\($0.path)" }) == key {
            byID.removeValue(forKey: id)
        }
        return entry.size
    }

    func file(id: String, bot: Int64) -> File? {
        byID[id].flatMap { $0.bot == bot ? $0 : nil }
    }

    func file(path: String, bot: Int64) -> File? {
        byPath["\(bot)/\(path)"]?.ids.first.flatMap { byID[$0] }
    }

    /// (file_id, file_unique_id) of a media object or of an array of photo sizes.
    private static func fileIDs(in media: FakeJSON?) -> [(id: String, unique: String)] {
        let items = media?.arrayValue ?? media.map { [$0] } ?? []
        return items.compactMap { item in
            guard let id = item["file_id"]?.stringValue, let unique = item["file_unique_id"]?.stringValue else { return nil }
            return (id, unique)
        }
    }
}

extension FakeTelegram {
    /// `getFile`: the File of an uploaded file this bot sent, with the path to download it from.
    func getFile(bot: Int64, params: BotRequestParams) throws(BotAPIError) -> Outcome {
        guard let id = params.string("file_id")?.trimmingCharacters(in: .whitespaces), !id.isEmpty else {
            throw .badRequest("invalid file_id")
        }
        guard let file = state.withLock({ $0.files.file(id: id, bot: bot) }) else {
            throw .badRequest("wrong file_id or the file is temporarily unavailable")
        }
        guard file.data.count <= FileBook.downloadLimit else { throw .badRequest("file is too big") }
        return Outcome(result: [
            "file_id": .string(id), "file_unique_id": .string(file.uniqueID), "file_size": .int(Int64(file.data.count)),
            "file_path": .string(file.path),
        ])
    }

    /// `GET /file/bot<token>/<file_path>`: the bytes, or Telegram's 404. Front-end faults apply (the method
    /// name for faults and stats is `file`).
    func download(path: String, channel: ConnectionHandle) async throws -> Response {
        let rest = path.dropFirst("/file/bot".count)
        guard let slash = rest.firstIndex(of: "/") else { return finish(BotAPIError.notFound.response) }
        let token = String(rest[..<slash]).removingPercentEncoding ?? String(rest[..<slash])
        let filePath = String(rest[rest.index(after: slash)...])
        let bot = BotRoute.botID(of: token)
        let now = clock.now()
        let front = state.withLock { s -> FrontFaults in
            s.recorder.stats.totalRequests += 1
            s.recorder.stats.requestsByMethod["file", default: 0] += 1
            return s.frontFaults(bot: bot, chat: nil, method: "file", now: now)
        }
        if let response = try await apply(front, channel: channel) { return response }
        guard let bot else { return finish(BotAPIError.notFound.response) }
        if let allowed = configuration.allowedTokens, !allowed.contains(token) { return finish(BotAPIError.unauthorized.response) }
        guard let file = state.withLock({ $0.files.file(path: filePath, bot: bot) }) else {
            return finish(BotAPIError.notFound.response)
        }
        return finish(
            Response(
                status: .ok, headers: [.contentType: "application/octet-stream"],
                body: .init(byteBuffer: ByteBuffer(bytes: file.data))))
    }
}
