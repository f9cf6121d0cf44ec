import Foundation

/// Sending methods share one pipeline: validate the request, resolve the chat, apply chat faults
/// and flood control, then create and record the messages.
extension FakeTelegram {
    /// Parses and checks a chat parameter (`chat_id` unless told otherwise).
    func chatRef(_ params: BotRequestParams, field: String = "chat_id") throws(BotAPIError) -> FakeChatRef {
        guard let raw = params.string(field), !raw.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw field == "chat_id" ? .chatIDEmpty : .badRequest("\(field) is empty")
        }
        guard let chat = FakeChatRef(parameter: raw), chat.id != 0 else { throw .chatNotFound }
        if unknownChats.contains(chat.key) || configuration.isUnknownChat?(chat) == true { throw .chatNotFound }
        return chat
    }

    /// Chat faults for a call that is not a send (chat actions, edits, deletes).
    func checkChat(bot: Int64, chat: FakeChatRef, method: String) throws(BotAPIError) {
        let now = clock.now()
        if let error = state.withLock({ $0.chatFault(bot: bot, chat: chat, method: method, now: now) }) { throw error }
    }

    /// Delivers one or more messages (one flood-control decision for the call), returning the
    /// messages and their record indices.
    func deliver(bot: Int64, chat: FakeChatRef, method: String, params: BotRequestParams, contents: [[String: FakeJSON]])
        throws(BotAPIError) -> (messages: [FakeJSON], indices: [Int])
    {
        let paid = params.bool("allow_paid_broadcast")
        let markup = try params.json("reply_markup")
        let result = state.withLock { s -> Result<([FakeJSON], [Int]), BotAPIError> in
            // The time is read under the lock, so sends enter the flood-control windows in time order
            // (a request that read the clock and then waited for the lock would count as earlier).
            let now = clock.now()
            let date = clock.date(at: now)
            let unix = clock.unixTime(at: now)
            if let error = s.chatFault(bot: bot, chat: chat, method: method, now: now) { return .failure(error) }
            if let error = s.admitSend(bot: bot, chat: chat, method: method, paid: paid, now: now) { return .failure(error) }
            let key = ChatBook.Key(bot: bot, chat: chat.resolvedID)
            var messages: [FakeJSON] = []
            var indices: [Int] = []
            for var content in contents {
                // Telegram echoes inline keyboards on the message, not other markup kinds.
                if let markup, markup["inline_keyboard"] != nil { content["reply_markup"] = markup }
                if let thread = params.int("message_thread_id") { content["message_thread_id"] = .int(thread) }
                let id = s.chats.nextMessageID(key)
                let message = MessageFactory.message(id: id, bot: bot, chat: chat, date: unix, content: content)
                s.chats.store(message, id: id, key: key)
                messages.append(message)
                indices.append(
                    s.recorder.record(
                        bot: bot, chatID: chat.resolvedID, method: method, messageID: id, params: params, simTime: now,
                        date: date))
            }
            return .success((messages, indices))
        }
        return try result.get()
    }

    func sendMessage(bot: Int64, params: BotRequestParams) throws(BotAPIError) -> Outcome {
        let chat = try chatRef(params)
        let text = try TextValidation.messageText(params)
        let sent = try deliver(bot: bot, chat: chat, method: "sendMessage", params: params, contents: [MessageFactory.textContent(text)])
        return Outcome(result: sent.messages[0], recordIndices: sent.indices)
    }

    /// sendPhoto / sendDocument: the file may be uploaded (multipart), an `attach://` reference,
    /// an HTTP URL or a file_id.
    func sendFile(bot: Int64, params: BotRequestParams, method: String, field: String) throws(BotAPIError) -> Outcome {
        let chat = try chatRef(params)
        guard let file = try inputFile(params, field: field) else { throw .badRequest("there is no \(field) in the request") }
        let caption = try TextValidation.caption(params)
        var content = MessageFactory.captionContent(caption)
        if field == "photo" {
            content["photo"] = MessageFactory.photoSizes(digest: file.digest, size: file.size)
        } else {
            content[field] = MessageFactory.document(
                digest: file.digest, size: file.size, fileName: file.fileName, mimeType: file.contentType)
        }
        let sent = try deliver(bot: bot, chat: chat, method: method, params: params, contents: [content])
        state.withLock { $0.files.add(bot: bot, kind: field, media: content[field], upload: file) }
        return Outcome(result: sent.messages[0], recordIndices: sent.indices)
    }

    func inputFile(_ params: BotRequestParams, field: String) throws(BotAPIError) -> UploadedFile? {
        if let upload = params.files[field] {
            guard upload.size > 0 else { throw .badRequest("file must be non-empty") }
            return upload
        }
        guard let value = params.string(field)?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
        if value.hasPrefix("attach://") {
            guard let upload = params.files[String(value.dropFirst("attach://".count))] else { throw .wrongFileID }
            guard upload.size > 0 else { throw .badRequest("file must be non-empty") }
            return upload
        }
        if value.hasPrefix("http://") || value.hasPrefix("https://") {
            let name = value.split(separator: "/").last.map(String.init)
            return UploadedFile(fileName: name, contentType: nil, size: 54_321, digest: fnv1a(Array(value.utf8)))
        }
        guard value.count >= 20, value.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") })
        else { throw .wrongFileID }
        return UploadedFile(fileName: nil, contentType: nil, size: 12_345, digest: fnv1a(Array(value.utf8)))
    }

    func copyOrForward(bot: Int64, params: BotRequestParams, method: String) throws(BotAPIError) -> Outcome {
        let isCopy = method == "copyMessage"
        let chat = try chatRef(params)
        let from = try chatRef(params, field: "from_chat_id")
        guard let sourceID = params.int("message_id") else { throw .messageIDMissing }
        guard sourceID > 0 else { throw .badRequest("message to \(isCopy ? "copy" : "forward") not found") }
        let source = state.withLock { $0.chats.message(sourceID, key: .init(bot: bot, chat: from.resolvedID)) }
        var content: [String: FakeJSON] = [:]
        for key in ["text", "entities", "photo", "document", "caption", "caption_entities", "video", "audio", "voice", "sticker"] {
            if let value = source?[key] { content[key] = value }
        }
        if content.isEmpty { content["text"] = .string("Message \(sourceID) of chat \(from.key)") }
        if isCopy, params.has("caption") {
            content.removeValue(forKey: "caption")
            content.removeValue(forKey: "caption_entities")
            content.merge(MessageFactory.captionContent(try TextValidation.caption(params))) { _, new in new }
        }
        if !isCopy {
            let date = source?["date"] ?? .int(clock.unixTime(at: clock.now()))
            content["forward_origin"] =
                from.isPrivate
                ? ["type": "user", "date": date, "sender_user": ["id": .int(from.resolvedID), "is_bot": false, "first_name": .string("User \(from.resolvedID)")]]
                : ["type": from.type == "channel" ? "channel" : "chat", "date": date, "chat": from.json]
        }
        let sent = try deliver(bot: bot, chat: chat, method: method, params: params, contents: [content])
        let result: FakeJSON = isCopy ? ["message_id": sent.messages[0]["message_id"] ?? 0] : sent.messages[0]
        return Outcome(result: result, recordIndices: sent.indices)
    }

    func editMessageText(bot: Int64, params: BotRequestParams) throws(BotAPIError) -> Outcome {
        if params.string("inline_message_id")?.isEmpty == false {
            _ = try TextValidation.messageText(params)
            return Outcome(result: true)
        }
        let chat = try chatRef(params)
        guard let id = params.int("message_id") else { throw .messageIDMissing }
        let text = try TextValidation.messageText(params)
        try checkChat(bot: bot, chat: chat, method: "editMessageText")
        let markup = try params.json("reply_markup")
        let unix = clock.unixTime(at: clock.now())
        let key = ChatBook.Key(bot: bot, chat: chat.resolvedID)
        let result = state.withLock { s -> Result<FakeJSON, BotAPIError> in
            guard case .object(var message)? = s.chats.message(id, key: key) else {
                return .failure(.badRequest("message to edit not found"))
            }
            guard message["text"] != nil else { return .failure(.badRequest("there is no text in the message to edit")) }
            let newEntities: FakeJSON? = text.entities.isEmpty ? nil : .array(text.entities)
            if message["text"] == .string(text.text), message["entities"] == newEntities,
                markup == nil || message["reply_markup"] == markup
            {
                return .failure(
                    .badRequest(
                        "message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message"
                    ))
            }
            message["text"] = .string(text.text)
            message["entities"] = newEntities
            if let markup { message["reply_markup"] = markup }
            message["edit_date"] = .int(unix)
            s.chats.store(.object(message), id: id, key: key)
            return .success(.object(message))
        }
        return Outcome(result: try result.get())
    }

    func deleteMessage(bot: Int64, params: BotRequestParams) throws(BotAPIError) -> Outcome {
        let chat = try chatRef(params)
        guard let id = params.int("message_id") else { throw .messageIDMissing }
        try checkChat(bot: bot, chat: chat, method: "deleteMessage")
        let deleted = state.withLock { $0.chats.delete(id, key: .init(bot: bot, chat: chat.resolvedID)) }
        guard deleted else { throw .badRequest("message to delete not found") }
        return Outcome(result: true)
    }

    static let chatActions: Set<String> = [
        "typing", "upload_photo", "record_video", "upload_video", "record_voice", "upload_voice", "upload_document",
        "choose_sticker", "find_location", "record_video_note", "upload_video_note",
    ]

    func sendChatAction(bot: Int64, params: BotRequestParams) throws(BotAPIError) -> Outcome {
        let chat = try chatRef(params)
        guard let action = params.string("action"), !action.isEmpty else { throw .badRequest("action is empty") }
        guard Self.chatActions.contains(action) else { throw .badRequest("wrong parameter action in request") }
        try checkChat(bot: bot, chat: chat, method: "sendChatAction")
        return Outcome(result: true)
    }
}

extension SimState {
    /// Chat-state faults (unknown, migrated, blocked…) for a call addressed to `chat`.
    mutating func chatFault(bot: Int64, chat: FakeChatRef, method: String, now: Double) -> BotAPIError? {
        let kinds: Set<FakeFault.Kind> = [.chatNotFound, .migrated, .blocked, .kicked, .deactivated, .cantInitiate]
        guard let fault = faults.take(kinds, bot: bot, chat: chat.key, method: method, now: now, rng: &rng).first else {
            return nil
        }
        recorder.countFault(fault.kind)
        switch fault.kind {
        case .migrated:
            var error = BotAPIError.badRequest("group chat was upgraded to a supergroup chat")
            error.migrateToChatID = fault.migrateToChatID ?? (-1_000_000_000_000 - abs(chat.resolvedID))
            return error
        case .blocked: return .forbidden("bot was blocked by the user")
        case .deactivated: return .forbidden("user is deactivated")
        case .cantInitiate: return .forbidden("bot can't initiate conversation with a user")
        case .kicked:
            switch chat.type {
            case "supergroup": return .forbidden("bot was kicked from the supergroup chat")
            case "channel": return .forbidden("bot is not a member of the channel chat")
            case "private": return .forbidden("bot was blocked by the user")
            default: return .forbidden("bot was kicked from the group chat")
            }
        default: return .chatNotFound
        }
    }

    /// An injected 429 for a call that is not a send. Only faults that name the method apply, so a fault
    /// meant for sends is not used up by the getUpdates or getMe calls around them.
    mutating func injectedTooManyRequests(bot: Int64, chat: String?, method: String, now: Double) -> BotAPIError? {
        guard let fault = faults.take([.tooManyRequests], bot: bot, chat: chat, method: method, now: now, rng: &rng, namedMethodOnly: true).first
        else { return nil }
        recorder.countFault(.tooManyRequests)
        recorder.stats.injectedTooManyRequests += 1
        return .tooManyRequests(retryAfter: fault.retryAfter)
    }

    /// Flood control for a send: an injected 429, or the limits.
    mutating func admitSend(bot: Int64, chat: FakeChatRef, method: String, paid: Bool, now: Double) -> BotAPIError? {
        if let fault = faults.take([.tooManyRequests], bot: bot, chat: chat.key, method: method, now: now, rng: &rng).first {
            recorder.countFault(.tooManyRequests)
            recorder.stats.injectedTooManyRequests += 1
            return .tooManyRequests(retryAfter: fault.retryAfter)
        }
        if let rejection = limiter.admit(bot: bot, chat: chat.resolvedID, isPrivate: chat.isPrivate, paid: paid, now: now) {
            recorder.countViolation(rejection)
            return .tooManyRequests(retryAfter: rejection.retryAfter)
        }
        return nil
    }
}
