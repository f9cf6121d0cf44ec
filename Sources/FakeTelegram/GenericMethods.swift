import Foundation

/// Every other Bot API method: `ok: true` with a result shaped like the documented return type.
/// Methods that send a message (sendLocation, sendSticker, sendMediaGroup, copyMessages…) go
/// through the same pipeline as sendMessage, so limits, faults and recording apply to them too.
extension FakeTelegram {
    /// Methods that create messages and therefore count against flood limits.
    static func isSendingMethod(_ method: String) -> Bool {
        if ["copyMessage", "copyMessages", "forwardMessage", "forwardMessages"].contains(method) { return true }
        guard method.hasPrefix("send") else { return false }
        let returns = BotAPIMethods.byLowercasedName[method.lowercased()]?.returns ?? ""
        return returns.contains("Message")
    }

    func generic(method: String, returns: String, bot: Int64, params: BotRequestParams) throws(BotAPIError) -> Outcome {
        if Self.isSendingMethod(method) {
            return try genericSend(method: method, returns: returns, bot: bot, params: params)
        }
        let now = clock.now()
        let chatKey = params.string("chat_id").flatMap(FakeChatRef.init(parameter:))?.key
        if let error = state.withLock({ $0.injectedTooManyRequests(bot: bot, chat: chatKey, method: method, now: now) }) { throw error }
        if params.has("chat_id") {
            let chat = try chatRef(params)
            try checkChat(bot: bot, chat: chat, method: method)
        }
        if returns == "Message | Boolean" {
            return try editLike(bot: bot, params: params)
        }
        return Outcome(result: plausibleResult(for: returns, bot: bot, params: params))
    }

    private func genericSend(method: String, returns: String, bot: Int64, params: BotRequestParams) throws(BotAPIError)
        -> Outcome
    {
        let chat = try chatRef(params)
        if method == "copyMessages" || method == "forwardMessages" {
            _ = try chatRef(params, field: "from_chat_id")
            guard let ids = try params.json("message_ids")?.arrayValue, !ids.isEmpty else {
                throw .badRequest("message identifiers are not specified")
            }
            let contents = ids.map { id -> [String: FakeJSON] in ["text": .string("Message \(id.parameterText)")] }
            let sent = try deliver(bot: bot, chat: chat, method: method, params: params, contents: contents)
            let result: FakeJSON = .array(sent.messages.map { ["message_id": $0["message_id"] ?? 0] })
            return Outcome(result: result, recordIndices: sent.indices)
        }
        if method == "sendMediaGroup" {
            guard let media = try params.json("media")?.arrayValue, !media.isEmpty else {
                throw .badRequest("media is empty")
            }
            let groupID = String(fnv1a(Array(params.canonical.utf8)) % 10_000_000_000_000)
            var contents: [[String: FakeJSON]] = []
            for item in media {
                if let caption = item["caption"]?.stringValue, TextValidation.length(caption) > TextValidation.maxCaptionLength {
                    throw .captionTooLong
                }
                let type = item["type"]?.stringValue ?? "photo"
                let digest = fnv1a(Array((item["media"]?.parameterText ?? "").utf8))
                var content: [String: FakeJSON] = ["media_group_id": .string(groupID)]
                content[type] =
                    type == "photo"
                    ? MessageFactory.photoSizes(digest: digest, size: 54_321)
                    : MessageFactory.document(digest: digest, size: 54_321, fileName: nil, mimeType: nil)
                if let caption = item["caption"] { content["caption"] = caption }
                contents.append(content)
            }
            let sent = try deliver(bot: bot, chat: chat, method: method, params: params, contents: contents)
            return Outcome(result: .array(sent.messages), recordIndices: sent.indices)
        }
        // sendVideoNote → "video_note": the message field named after the method.
        let kind = snakeCase(String(method.dropFirst(4)))
        var content = MessageFactory.captionContent(try TextValidation.caption(params))
        let upload = try? inputFile(params, field: kind)
        if let file = upload {
            content[kind] = MessageFactory.document(
                digest: file.digest, size: file.size, fileName: file.fileName, mimeType: file.contentType)
        } else {
            var payload: [String: FakeJSON] = [:]
            for (name, value) in params.values
            where !["chat_id", "caption", "parse_mode", "reply_markup", "allow_paid_broadcast"].contains(name) {
                payload[name] = value
            }
            content[kind] = .object(payload)
        }
        let sent = try deliver(bot: bot, chat: chat, method: method, params: params, contents: [content])
        if let upload { state.withLock { $0.files.add(bot: bot, kind: kind, media: content[kind], upload: upload) } }
        return Outcome(result: returns.hasPrefix("Array") ? .array(sent.messages) : sent.messages[0], recordIndices: sent.indices)
    }

    /// editMessageCaption, editMessageReplyMarkup…: the edited message, or true for inline messages.
    private func editLike(bot: Int64, params: BotRequestParams) throws(BotAPIError) -> Outcome {
        if params.string("inline_message_id")?.isEmpty == false { return Outcome(result: true) }
        let chat = try chatRef(params)
        guard let id = params.int("message_id") else { throw .messageIDMissing }
        let unix = clock.unixTime(at: clock.now())
        let stored = state.withLock { $0.chats.message(id, key: .init(bot: bot, chat: chat.resolvedID)) }
        guard case .object(var message)? = stored else { throw .badRequest("message to edit not found") }
        message["edit_date"] = .int(unix)
        if let markup = try params.json("reply_markup") { message["reply_markup"] = markup }
        if let caption = try TextValidation.caption(params) {
            message.merge(MessageFactory.captionContent(caption)) { _, new in new }
        }
        let updated = FakeJSON.object(message)
        state.withLock { $0.chats.store(updated, id: id, key: .init(bot: bot, chat: chat.resolvedID)) }
        return Outcome(result: updated)
    }

    private func plausibleResult(for returns: String, bot: Int64, params: BotRequestParams) -> FakeJSON {
        let chat = params.string("chat_id").flatMap(FakeChatRef.init(parameter:))
        let userID = params.int("user_id") ?? 1
        let user: FakeJSON = ["id": .int(userID), "is_bot": false, "first_name": .string("User \(userID)")]
        let link: FakeJSON = [
            "invite_link": .string("https://t.me/+FakeInvite\(bot)"), "creator": MessageFactory.botUser(bot),
            "creates_join_request": false, "is_primary": false, "is_revoked": false,
        ]
        switch returns {
        case "Boolean": return true
        case "Integer": return 2
        case "String": return .string("https://t.me/+FakeInvite\(bot)")
        case "User": return MessageFactory.getMe(bot)
        case "MessageId": return ["message_id": 1]
        case "ChatFullInfo":
            guard case .object(var o)? = chat?.json else { return [:] }
            o["accent_color_id"] = 0
            o["max_reaction_count"] = 11
            return .object(o)
        case "ChatMember": return ["status": "member", "user": user]
        case "Array of ChatMember":
            return [["status": "creator", "user": user, "is_anonymous": false], ["status": "administrator", "user": MessageFactory.botUser(bot), "can_be_edited": false, "is_anonymous": false]]
        case "ChatInviteLink": return link
        case "File":
            let id = params.string("file_id") ?? MessageFactory.fileIDs(prefix: "BQ", digest: UInt64(bitPattern: bot)).id
            return ["file_id": .string(id), "file_unique_id": "AQADfake", "file_size": 1024, "file_path": "documents/file_0.bin"]
        case "StarAmount": return ["amount": 0]
        case "Poll":
            return [
                "id": "1", "question": "", "options": [], "total_voter_count": 0, "is_closed": true, "is_anonymous": true,
                "type": "regular", "allows_multiple_answers": false,
            ]
        case "BotName": return ["name": .string("Fake Bot \(bot)")]
        case "BotDescription": return ["description": ""]
        case "BotShortDescription": return ["short_description": ""]
        case "MenuButton": return ["type": "default"]
        case "UserProfilePhotos": return ["total_count": 0, "photos": []]
        case "StarTransactions": return ["transactions": []]
        case "Gifts": return ["gifts": []]
        case "OwnedGifts": return ["total_count": 0, "gifts": []]
        case "UserChatBoosts": return ["boosts": []]
        case "StickerSet":
            return ["name": .string(params.string("name") ?? "set"), "title": "", "sticker_type": "regular", "stickers": []]
        case "ForumTopic":
            return ["message_thread_id": 1, "name": .string(params.string("name") ?? "Topic"), "icon_color": 7_322_096]
        case "ChatAdministratorRights":
            let rights = [
                "is_anonymous", "can_manage_chat", "can_delete_messages", "can_manage_video_chats", "can_restrict_members",
                "can_promote_members", "can_change_info", "can_invite_users", "can_post_stories", "can_edit_stories",
                "can_delete_stories",
            ]
            return .object(Dictionary(uniqueKeysWithValues: rights.map { ($0, FakeJSON.bool(false)) }))
        default:
            return returns.hasPrefix("Array of") ? [] : [:]
        }
    }
}

/// "VideoNote" → "video_note".
func snakeCase(_ camel: String) -> String {
    var out = ""
    for (i, c) in camel.enumerated() {
        if c.isUppercase, i > 0 { out.append("_") }
        out.append(Character(c.lowercased()))
    }
    return out
}
