import Foundation
import Logging
import TGRelayCore
import TGRelayStore
import TelegramBotAPI

extension Dispatcher {
    /// Works once on the head message of each lane of a group, then hands every lane back to the
    /// scheduler: one store read for all heads and one durable commit marking the sendable ones
    /// `sending` (before any request leaves), then each send goes on its own.
    ///
    /// Nonisolated: building requests, classifying answers and the store's I/O run beside other
    /// sends; only the scheduling state (limiter, circuits, lanes) is touched on the actor.
    nonisolated func process(
        _ lanes: [LaneKey], inactive: [LaneKey: String], endpoint: String, token: String, enforceLimits: Bool
    ) async {
        let sends: [PreparedSend]
        do {
            let prepared = try await prepare(lanes, inactive: inactive)
            sends = prepared.sends
            await lanesDone(prepared.done)
        } catch {
            // The store could not read or commit: nothing was lost, the lanes try again shortly.
            logger.error("store error while dispatching; lanes retry in 1 s", metadata: ["lanes": "\(lanes.count)", "error": "\(error)"])
            let retry = Date().addingTimeInterval(1)
            await lanesDone(lanes.map { ($0, retry) })
            return
        }
        await withDiscardingTaskGroup { group in
            for send in sends {
                group.addTask {
                    await self.send(send, endpoint: endpoint, token: token, enforceLimits: enforceLimits)
                }
            }
        }
    }

    /// A lane's head marked `sending`, with the files uploaded with it (read before the mark, so a
    /// store error cannot leave it `sending`).
    struct PreparedSend: Sendable {
        var lane: LaneKey
        var head: OutboundMessage
        var uploads: [FileUpload]
    }

    /// Reads the lanes' heads, settles those that need no request (empty lane, not due yet, expired,
    /// chat inactive) and marks the rest `sending` in one commit. Returns the heads to send and the
    /// lanes already done, with when each may go next (nil: empty).
    private nonisolated func prepare(
        _ lanes: [LaneKey], inactive: [LaneKey: String]
    ) async throws -> (sends: [PreparedSend], done: [(LaneKey, Date?)]) {
        let heads = try await store.laneHeads(lanes)
        let now = Date()
        var candidates: [PreparedSend] = []
        var sends: [PreparedSend] = []
        var done: [(LaneKey, Date?)] = []
        for lane in lanes {
            guard let head = heads[lane] else {
                done.append((lane, nil))
                continue
            }
            switch DeliveryDecision.beforeSend(message: head, now: now, chatInactiveReason: inactive[lane]) {
            case .wait(let until):
                done.append((lane, until))
            case .expire(let reason):
                if try await store.apply(Transition(messageID: head.id, at: now, newStatus: .expired, lastError: reason)) {
                    metrics.finished(bot: lane.bot, status: .expired)
                }
                waiters.signal(head.id)
                logger.info("message expired", metadata: ["id": "\(head.id)", "lane": "\(lane)", "reason": "\(reason)"])
                done.append((lane, now))
            case .failFast(let reason):
                if try await store.apply(Transition(messageID: head.id, at: now, newStatus: .failed, lastError: reason)) {
                    metrics.finished(bot: lane.bot, status: .failed)
                }
                waiters.signal(head.id)
                logger.info("message failed: chat inactive", metadata: ["id": "\(head.id)", "lane": "\(lane)"])
                done.append((lane, now))
            case .send:
                let uploads = head.uploadCount > 0 ? try await store.uploads(messageID: head.id) : []
                let prepared = PreparedSend(lane: lane, head: head, uploads: uploads)
                // Already `sending`: marked by this node in a commit whose answer was lost (the database
                // went away), so no request left for it; attempts are recorded before their lane is handed
                // back, and another node's `sending` rows were recovered when the lease was taken.
                if head.status == .sending { sends.append(prepared) } else { candidates.append(prepared) }
            }
        }
        guard !candidates.isEmpty else { return (sends, done) }
        let marked = try await store.markSending(ids: candidates.map(\.head.id), now: now)
        // A head cancelled (or expired) since it was read is not marked: its lane just moves on.
        sends += candidates.filter { marked.contains($0.head.id) }
        done += candidates.filter { !marked.contains($0.head.id) }.map { ($0.lane, now) }
        return (sends, done)
    }

    /// Hands lanes back to the scheduler with when each may go next (nil: the lane looked empty).
    private func lanesDone(_ lanes: [(LaneKey, Date?)]) {
        guard !lanes.isEmpty else { return }
        let now = Date()
        for (lane, next) in lanes {
            donePreparing(lane)
            inFlight -= 1
            bots[lane.bot]?.inFlight -= 1
            // A bot whose lease went was forgotten by the scheduler (`giveUp`): its lanes are not handed back.
            if ownership.owns(lane.bot) { scheduler.finish(lane, next: next, now: now) }
        }
        wake()
    }

    /// Sends one head already marked `sending`, records the attempt and hands the lane back.
    private nonisolated func send(_ prepared: PreparedSend, endpoint: String, token: String, enforceLimits: Bool) async {
        let (head, lane) = (prepared.head, prepared.lane)
        // Stored params are canonical JSON, so the flag has exactly this spelling when set. Without
        // limits there is no slot to wait for (and no trip to the actor for it).
        let slot = enforceLimits ? await takeSlot(for: lane, paid: head.params.contains(#""allow_paid_broadcast":true"#)) : Date()
        guard let departed = slot, enforceLimits || ownership.owns(lane.bot) else {
            return await handBack(prepared)
        }
        let started = ContinuousClock.now
        let response = await request(head, uploads: prepared.uploads, endpoint: endpoint, token: token)
        let duration = ContinuousClock.now - started
        let at = Date()
        let answer = classify(response)
        var random = SystemRandomNumberGenerator()
        var decision = DeliveryDecision.decide(message: head, classification: answer, now: at, policy: policy, random: &random)
        if await noteAnswer(answer, lane: lane, endpoint: endpoint, departed: departed, at: at) {
            decision = decision.heldByOutage(answer: answer, message: head)
        }
        let attempt = AttemptRecord(
            message: head, endpoint: endpoint, response: response, answer: answer, decision: decision, at: at, duration: duration)
        guard await recordUntilStored(attempt, decision: decision, lane: lane, at: at) else {
            // Shutting down with the store still refusing: the message stays `sending`, and the next start
            // retries it as ambiguous. The lane is not handed back, so nothing behind it overtakes it.
            return
        }
        if decision.newStatus.isFinal { waiters.signal(head.id) }
        metrics.attempt(bot: lane.bot, outcome: answer.outcome, duration: duration)
        metrics.finished(bot: lane.bot, status: decision.newStatus)
        logger.info(
            "attempt", metadata: ["id": "\(head.id)", "lane": "\(lane)", "outcome": "\(answer.outcome)", "status": "\(decision.newStatus.rawValue)"])
        await finishAttempt(lane: lane, effect: decision.effect, answer: answer, at: at, next: decision.newStatus.isFinal ? at : decision.notBefore ?? at)
    }

    /// The bot's lease went before the send's slot came: no request left, so the message goes back to how
    /// it was before it was marked (if the store refuses, it stays `sending` and the next holder of the
    /// lease retries it as ambiguous).
    private nonisolated func handBack(_ prepared: PreparedSend) async {
        let head = prepared.head
        let status: MessageStatus = head.status == .queued ? .queued : .waiting
        do {
            try await store.apply(Transition(messageID: head.id, at: Date(), newStatus: status, notBefore: head.notBefore, lastError: head.lastError))
        } catch {
            logger.warning("store error while handing a message back after the lease went", metadata: ["id": "\(head.id)", "error": "\(error)"])
        }
        await lanesDone([(prepared.lane, nil)])
    }

    /// Stores the attempt (and, first, an inactive chat), retrying each second while the store refuses (full,
    /// locked, down). The answer is known and the message is `sending`: the lane must not move on before
    /// the outcome is stored, and a lane handed back with its head still `sending` would be picked up
    /// again at once, over and over. Returns false when the relay stops before the store takes it.
    private nonisolated func recordUntilStored(_ attempt: AttemptRecord, decision: DeliveryDecision.Decision, lane: LaneKey, at: Date) async -> Bool {
        var failures = 0
        while true {
            do {
                // An earlier try may have committed with its answer lost (the database went away at
                // commit): the message is no longer `sending` then, and recording again would count twice.
                if failures > 0, try await store.message(id: attempt.messageID)?.status != .sending { return true }
                // The chat is inactive before its message reads as failed, so whoever sees the failure
                // also sees the chat listed as inactive.
                if case .markChatInactive(let reason) = decision.effect {
                    try await store.setChatInactive(bot: lane.bot, chat: lane.chat, reason: reason, now: at)
                }
                try await recorder.record(attempt)
                if failures > 0 { logger.notice("attempt recorded after store errors", metadata: ["lane": "\(lane)", "failures": "\(failures)"]) }
                return true
            } catch {
                failures += 1
                let level: Logger.Level = failures == 1 ? .error : .debug
                logger.log(level: level, "store error while recording an attempt; retrying in 1 s", metadata: ["lane": "\(lane)", "error": "\(error)"])
            }
            if await isStopping { return false }
            try? await Task.sleep(for: .seconds(1))
        }
    }

    /// Applies what an answer means beyond its message, then hands the lane back: one trip to the actor.
    private func finishAttempt(lane: LaneKey, effect: DeliveryDecision.Effect, answer: TelegramAnswer?, at: Date, next: Date?) async {
        var laneNext = next
        if let answer {
            do {
                if let override = try await applyEffect(effect, answer: answer, lane: lane, at: at) { laneNext = override }
            } catch {
                logger.error("store error while applying an answer; lane retries in 1 s", metadata: ["lane": "\(lane)", "error": "\(error)"])
                laneNext = Date().addingTimeInterval(1)
            }
        }
        lanesDone([(lane, laneNext)])
    }

    /// Feeds the answer to the limiter (the send's latest possible arrival) and to the endpoint's
    /// circuit. Returns whether the endpoint's circuit is open after it.
    private func noteAnswer(_ answer: TelegramAnswer, lane: LaneKey, endpoint: String, departed: Date, at: Date) -> Bool {
        bots[lane.bot]?.limiter.recordAnswered(lane: lane, departed: departed, answered: at)
        return noteEndpointAnswer(answer, bot: lane.bot, endpoint: endpoint, at: at)
    }

    /// The lane no longer waits in front of the limiter (idempotent: called at departure and at the end).
    func donePreparing(_ lane: LaneKey) {
        bots[lane.bot]?.preparing.remove(lane)
    }

    /// What an answer means beyond its message. Returns a lane time that overrides the default, if any.
    private func applyEffect(_ effect: DeliveryDecision.Effect, answer: TelegramAnswer, lane: LaneKey, at: Date) async throws -> Date?? {
        switch effect {
        case .none:
            if case .delivered = answer {
                bots[lane.bot]?.deliveries.record(at: at)
                if bots[lane.bot]?.unauthorized != nil {
                    bots[lane.bot]?.unauthorized = nil
                    bots[lane.bot]?.limiter.resumeBot()
                }
            }
            return nil
        case .pauseLane:
            guard case .rateLimited(let retryAfter) = answer else { return nil }
            if case .botPaused(let until) = bots[lane.bot]?.limiter.recordRateLimited(lane: lane, retryAfter: retryAfter, now: at) {
                logger.warning("429 storm: bot paused", metadata: ["bot": "\(lane.bot)", "until": "\(until)"])
            }
            return nil
        case .markChatInactive(let reason):
            // Stored by `send` before the attempt: here only the dispatcher's own copy.
            inactiveChats[lane] = reason
            logger.notice("chat marked inactive", metadata: ["lane": "\(lane)", "reason": "\(reason)"])
            return nil
        case .migrateLane(let newChat):
            try await store.migrateChat(bot: lane.bot, from: lane.chat, to: newChat, now: at)
            logger.notice("group migrated to supergroup; lane re-targeted", metadata: ["lane": "\(lane)", "to": "\(newChat)"])
            scheduler.touch(LaneKey(bot: lane.bot, chat: newChat))
            // The old lane is empty now unless something was accepted for it meanwhile.
            return .some(nil)
        case .pauseBot(let reason, let until):
            bots[lane.bot]?.limiter.pauseBot(until: until)
            if case .unauthorized(let description) = reason {
                bots[lane.bot]?.unauthorized = description
                logger.critical("Telegram refused the bot's token (401): bot paused, messages keep waiting", metadata: ["bot": "\(lane.bot)"])
            }
            return nil
        }
    }

    /// Feeds the endpoint's circuit; an open circuit stops sends (and attempts) until a probe succeeds.
    /// Returns whether the endpoint's circuit is open after this answer.
    private func noteEndpointAnswer(_ answer: TelegramAnswer, bot: String, endpoint: String, at: Date) -> Bool {
        guard let index = bots[bot]?.endpoints.endpoints.firstIndex(where: { $0.baseURL == endpoint }) else { return false }
        if let transition = bots[bot]?.endpoints.record(answer, endpoint: index, now: at) {
            logTransition(transition, bot: bot, endpoint: index)
        }
        return bots[bot]?.endpoints.endpoints[index].breaker.allowsSends == false
    }

    /// A `getMe` that takes longer than 5 s (or than `options.request_timeout_seconds`, when shorter) counts
    /// as failed: an endpoint that slow is not one to send through yet.
    func probe(bot: String, endpoint index: Int, baseURL: String, token: String) async {
        let timeout = min(options.requestTimeout, .seconds(5))
        let response = await client.call(endpoint: baseURL, token: token, method: "getMe", json: Array("{}".utf8), timeout: timeout)
        let succeeded = !classify(response).isEndpointFailure
        if let transition = bots[bot]?.endpoints.recordProbe(endpoint: index, succeeded: succeeded, now: Date()) {
            logTransition(transition, bot: bot, endpoint: index)
        }
        wake()
    }

    private func logTransition(_ transition: CircuitBreaker.Transition, bot: String, endpoint: Int) {
        switch transition {
        case .opened(let since):
            logger.warning("Bot API endpoint unreachable: circuit open, messages held", metadata: ["bot": "\(bot)", "endpoint": "\(endpoint)", "since": "\(since)"])
        case .closed(let since, let recovered):
            logger.notice("Bot API endpoint recovered: draining backlog", metadata: [
                "bot": "\(bot)", "endpoint": "\(endpoint)", "outage_seconds": "\(Int(recovered.timeIntervalSince(since)))",
            ])
        }
    }

    nonisolated func classify(_ response: BotAPIResponse) -> TelegramAnswer {
        switch response {
        case .answer(let status, let body): classifier.classify(status: status, body: body)
        case .failure(.notSent(let description)): classifier.classify(failure: .other(description: description, requestSent: false))
        case .failure(.mayHaveBeenSent(let description)): classifier.classify(failure: .other(description: description, requestSent: true))
        }
    }

    /// JSON, or multipart/form-data when the message carries uploaded files (text fields as sent, other
    /// values as JSON text, as Telegram reads them).
    private nonisolated func request(
        _ message: OutboundMessage, uploads: [FileUpload], endpoint: String, token: String
    ) async -> BotAPIResponse {
        guard !uploads.isEmpty else {
            return await client.call(
                endpoint: endpoint, token: token, method: message.method, json: Self.requestJSON(message), timeout: options.requestTimeout)
        }
        let params = Self.requestParams(message)
        let fields = params.sorted { $0.key < $1.key }.map { name, value in (name, value.stringValue ?? CanonicalJSON.serialize(value)) }
        return await client.callMultipart(
            endpoint: endpoint, token: token, method: message.method, fields: fields, files: uploads, timeout: options.requestTimeout)
    }

    /// The JSON body of a send without uploads. Stored params are canonical JSON, so when they already name
    /// the lane's chat as `requestParams` would (one `chat_id`, with that value), or name no chat at all,
    /// they are the body as they are: no parse and re-serialization per send. Otherwise (a group that
    /// migrated, a chat id sent as a string, a nested `chat_id` too) they go through `requestParams`.
    static func requestJSON(_ message: OutboundMessage) -> [UInt8] {
        let params = Array(message.params.utf8)
        let key = Array(#""chat_id":"#.utf8)
        var found: [Int] = []
        var index = 0
        while index + key.count <= params.count {
            if params[index] == key[0], params[index..<index + key.count].elementsEqual(key) {
                found.append(index + key.count)
                index += key.count
            } else {
                index += 1
            }
        }
        if found.isEmpty { return params }
        let value = Array((Int64(message.chat).map(String.init) ?? CanonicalJSON.serialize(.string(message.chat))).utf8)
        if found.count == 1, let start = found.first, params[start...].starts(with: value),
            start + value.count < params.count, [UInt8(ascii: ","), UInt8(ascii: "}")].contains(params[start + value.count])
        {
            return params
        }
        return Array(CanonicalJSON.serialize(.object(requestParams(message))).utf8)
    }

    /// The stored params with the lane's current chat (it changes when a group migrates).
    static func requestParams(_ message: OutboundMessage) -> [String: JSONValue] {
        guard var params = (try? JSONParser.parse(message.params))?.objectValue else { return [:] }
        // Methods addressed by user_id keep it; only a chat_id follows a migration.
        if params["chat_id"] != nil {
            params["chat_id"] = Int64(message.chat).map { .number(JSONNumber($0)) } ?? .string(message.chat)
        }
        return params
    }
}
