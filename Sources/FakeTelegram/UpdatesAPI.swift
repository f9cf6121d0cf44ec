import Foundation

/// getUpdates / setWebhook / deleteWebhook / getWebhookInfo and update injection.
extension FakeTelegram {
    /// Queues an update for a bot and returns its update_id (assigned when missing), or nil when
    /// the bot's `allowed_updates` filters it out (Telegram never creates such updates).
    @discardableResult
    public func injectUpdate(bot: Int64, update: FakeJSON) throws -> Int64? {
        guard case .object(var object) = update, object.contains(where: { $0.key != "update_id" }) else {
            throw FakeConfigError("an update must be a JSON object with one field besides update_id, e.g. \"message\"")
        }
        let now = clock.now()
        let retention = configuration.updateRetention.seconds
        return try state.withLock { s throws -> Int64? in
            let id = try s.withBot(bot) { b throws -> Int64? in
                if let given = object["update_id"]?.intValue {
                    guard given >= b.nextID || b.queue.isEmpty && given > 0 else {
                        throw FakeConfigError("update_id \(given) must be at least \(b.nextID) (ids increase)")
                    }
                    b.nextID = given
                }
                guard b.accepts(updateType(update)) else { return nil }
                let id = b.nextID
                b.nextID += 1
                object["update_id"] = .int(id)
                b.prune(now: now, retention: retention)
                b.queue.append(.init(id: id, createdAt: now, update: .object(object)))
                b.wakeAll()
                return id
            }
            if id != nil { s.recorder.stats.updatesInjected += 1 }
            return id
        }
    }

    /// Queues a text message from the user of a private chat (or a member of a group) to the bot.
    @discardableResult
    public func injectMessage(bot: Int64, chatID: Int64, text: String, fromUserID: Int64? = nil) throws -> Int64? {
        let chat = FakeChatRef(id: chatID)
        let userID = fromUserID ?? (chatID > 0 ? chatID : 1)
        let now = clock.now()
        let messageID = state.withLock { $0.chats.nextMessageID(.init(bot: bot, chat: chatID)) }
        let message: FakeJSON = [
            "message_id": .int(messageID), "date": .int(clock.unixTime(at: now)), "chat": chat.json, "text": .string(text),
            "from": ["id": .int(userID), "is_bot": false, "first_name": .string("User \(userID)"), "language_code": "en"],
        ]
        return try injectUpdate(bot: bot, update: ["message": message])
    }

    /// Updates not yet confirmed by the bot (for assertions).
    public func pendingUpdates(bot: Int64) -> [FakeJSON] {
        let now = clock.now()
        let retention = configuration.updateRetention.seconds
        return state.withLock { s in
            s.withBot(bot) { b in
                b.prune(now: now, retention: retention)
                return b.queue.map(\.update)
            }
        }
    }

    func getUpdates(bot: Int64, params: BotRequestParams) async throws(BotAPIError) -> Outcome {
        let offset = params.int("offset") ?? 0
        let limit = params.int("limit").map { Int(max(1, min(100, $0))) } ?? 100
        let timeout = min(max(params.values["timeout"]?.doubleValue ?? 0, 0), configuration.maxLongPollTimeout.seconds)
        let allowed = try params.json("allowed_updates")?.arrayValue?.compactMap(\.stringValue)
        let retention = configuration.updateRetention.seconds
        let deadline = clock.now() + timeout

        let started = state.withLock { s -> Result<Int, BotAPIError> in
            let pollID = s.makeWaiterID()
            return s.withBot(bot) { b in
                if b.webhook != nil {
                    return .failure(
                        .conflict("can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"))
                }
                if let allowed { b.allowedUpdates = allowed }
                // The newest request owns the bot; a poll still waiting is answered 409.
                b.activePoll = pollID
                b.wakeAll()
                b.confirm(offset: offset)
                return .success(pollID)
            }
        }
        let pollID = try started.get()

        while true {
            let now = clock.now()
            let step = state.withLock { s -> Result<[FakeJSON]?, BotAPIError> in
                let stopped = s.stopped
                return s.withBot(bot) { b in
                    if b.webhook != nil { return .failure(.conflict("terminated by setWebhook request")) }
                    guard b.activePoll == pollID else {
                        return .failure(
                            .conflict("terminated by other getUpdates request; make sure that only one bot instance is running"))
                    }
                    b.prune(now: now, retention: retention)
                    if !b.queue.isEmpty || now >= deadline || stopped || Task.isCancelled {
                        b.activePoll = nil
                        return .success(b.queue.prefix(limit).map(\.update))
                    }
                    return .success(nil)
                }
            }
            if let updates = try step.get() {
                state.withLock { $0.recorder.stats.updatesDelivered += updates.count }
                return Outcome(result: .array(updates))
            }
            await waitForUpdates(bot: bot, until: deadline) { b in !b.queue.isEmpty || b.activePoll != pollID || b.webhook != nil }
        }
    }

    /// Suspends until `ready` holds for the bot (checked whenever its updates change) or `deadline`.
    func waitForUpdates(bot: Int64, until deadline: Double, ready: @escaping @Sendable (BotUpdates) -> Bool) async {
        let remaining = deadline - clock.now()
        guard remaining > 0 else { return }
        let waiterID = state.withLock { $0.makeWaiterID() }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.suspend(bot: bot, waiterID: waiterID, ready: ready) }
            group.addTask { try? await Task.sleep(for: .seconds(double: remaining)) }
            await group.next()
            group.cancelAll()
        }
    }

    private func suspend(bot: Int64, waiterID: Int, ready: @Sendable (BotUpdates) -> Bool) async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { s -> Bool in
                    // Checked under the lock, so an update arriving right now cannot be missed.
                    if Task.isCancelled || s.stopped { return true }
                    return s.withBot(bot) { b in
                        if ready(b) { return true }
                        b.waiters[waiterID] = continuation
                        return false
                    }
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            state.withLock { $0.bots[bot]?.waiters.removeValue(forKey: waiterID) }?.resume()
        }
    }

    func setWebhook(bot: Int64, params: BotRequestParams) throws(BotAPIError) -> Outcome {
        let url = params.string("url")?.trimmingCharacters(in: .whitespaces) ?? ""
        if url.isEmpty { return deleteWebhook(bot: bot, params: params) }
        guard let parsed = URL(string: url), let scheme = parsed.scheme?.lowercased(), parsed.host?.isEmpty == false,
            scheme == "https" || (scheme == "http" && !configuration.webhook.requireHTTPS)
        else {
            throw .badRequest("bad webhook: An HTTPS URL must be provided for webhook")
        }
        let secret = params.string("secret_token").flatMap { $0.isEmpty ? nil : $0 }
        if let secret {
            guard secret.count <= 256 else { throw .badRequest("secret token is too long") }
            guard secret.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") }) else {
                throw .badRequest("secret token contains unallowed characters")
            }
        }
        let maxConnections = params.int("max_connections").map { Int(max(1, min(100, $0))) } ?? 40
        let allowed = try params.json("allowed_updates")?.arrayValue?.compactMap(\.stringValue)
        let drop = params.bool("drop_pending_updates")
        let config = WebhookConfig(url: url, secretToken: secret, maxConnections: maxConnections, allowedUpdates: allowed)

        let (unchanged, generation) = state.withLock { s in
            s.withBot(bot) { b -> (Bool, Int) in
                if drop { b.queue.removeAll() }
                if let old = b.webhook, old.url == url, old.secretToken == secret, old.maxConnections == maxConnections,
                    old.allowedUpdates == allowed
                {
                    return (true, b.webhookGeneration)
                }
                b.webhook = config
                b.webhookGeneration += 1
                b.wakeAll()
                return (false, b.webhookGeneration)
            }
        }
        if unchanged { return Outcome(result: true, description: "Webhook is already set") }
        startWebhookWorker(bot: bot, generation: generation)
        return Outcome(result: true, description: "Webhook was set")
    }

    func deleteWebhook(bot: Int64, params: BotRequestParams) -> Outcome {
        let drop = params.bool("drop_pending_updates")
        let (existed, worker) = state.withLock { s in
            let existed = s.withBot(bot) { b -> Bool in
                if drop { b.queue.removeAll() }
                guard b.webhook != nil else { return false }
                b.webhook = nil
                b.webhookGeneration += 1
                b.wakeAll()
                return true
            }
            return (existed, s.webhookWorkers.removeValue(forKey: bot))
        }
        worker?.cancel()
        return Outcome(result: true, description: existed ? "Webhook was deleted" : "Webhook is already deleted")
    }

    func getWebhookInfo(bot: Int64) -> Outcome {
        let now = clock.now()
        let retention = configuration.updateRetention.seconds
        let info = state.withLock { s in
            s.withBot(bot) { b -> FakeJSON in
                b.prune(now: now, retention: retention)
                var o: [String: FakeJSON] = [
                    "url": .string(b.webhook?.url ?? ""), "has_custom_certificate": false,
                    "pending_update_count": .int(Int64(b.queue.count)),
                ]
                if let w = b.webhook {
                    o["max_connections"] = .int(Int64(w.maxConnections))
                    o["ip_address"] = "127.0.0.1"
                    if let allowed = w.allowedUpdates { o["allowed_updates"] = .array(allowed.map { .string($0) }) }
                    if let date = w.lastErrorDate { o["last_error_date"] = .int(date) }
                    if let message = w.lastErrorMessage { o["last_error_message"] = .string(message) }
                }
                return .object(o)
            }
        }
        return Outcome(result: info)
    }
}
