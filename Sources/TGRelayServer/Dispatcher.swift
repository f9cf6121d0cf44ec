import DequeModule
import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import TGRelayCore
import TGRelayStore
import TelegramBotAPI

/// Sends every accepted message: lanes in FIFO order, limits scheduled before sending, answers
/// classified by the core's pure decision logic, every attempt recorded with its ledger row.
///
/// One actor owns the scheduling state (lanes, rate limiters, circuits); sends run as child tasks
/// and come back to the actor only to record what happened.
public actor Dispatcher: Service {
    struct BotRuntime {
        let bot: RelayConfiguration.Bot
        var limiter: RateLimiter
        var endpoints: EndpointSelector
        var deliveries = DeliveryRate()
        /// Set while the token is refused (401); cleared by the next successful send.
        var unauthorized: String?
        /// Lanes popped and not yet past `takeSlot` (or done without a send).
        var preparing: Set<LaneKey> = []
        /// Lanes popped and not yet handed back (sends in flight among them).
        var inFlight = 0
        let enforceLimits: Bool
        /// A quarter of the bot's per-window allowance, so the limiter, not the queue, paces sends; at most
        /// half the default in-flight cap, which also counts sends out and being recorded.
        var preparingCap: Int {
            let perWindow = max(limiter.limits.bot.count, limiter.limits.paidBroadcast?.count ?? 0)
            return enforceLimits ? min(max(perWindow / 4, 2), 128) : .max
        }
    }

    let store: any MessageStore
    let recorder: AttemptRecorder
    let client: BotAPIClient
    let options: RelayConfiguration.Options
    let policy: RetryPolicy
    let logger: Logger
    /// Counters of accepts, attempts and final states; `/metrics` serves them.
    public nonisolated let metrics: RelayMetrics
    let classifier = AnswerClassifier()
    /// Proxy requests waiting for their message's final state.
    public let waiters: DeliveryWaiters
    /// The bots this node holds the lease of (`LeaseKeeper`): only theirs are dispatched.
    nonisolated let ownership: BotOwnership
    var bots: [String: BotRuntime] = [:]
    var scheduler: LaneScheduler
    /// Chats that answered 403, so their messages fail fast without taking a rate-limit slot.
    var inactiveChats: [LaneKey: String] = [:]
    var inFlight = 0
    /// Lanes reported by `lanesChanged`, not yet taken in by the actor.
    private let newWork = Mutex<[LaneKey]>([])
    private var stopping = false
    var isStopping: Bool { stopping }
    /// Sends waiting for their rate-limit slot, per bot, in arrival order (`Dispatcher+Slots`).
    var slotWaiters: [String: SlotQueues] = [:]
    /// Per bot, the timer that serves the slot waiters next, and when it fires.
    var slotTimers: [String: (at: Date, task: Task<Void, Never>)] = [:]
    private var sleeper: CheckedContinuation<Void, Never>?
    private var wakePending = false

    public init(
        configuration: RelayConfiguration, store: any MessageStore, client: BotAPIClient, logger: Logger,
        metrics: RelayMetrics = RelayMetrics(), ownership: BotOwnership = BotOwnership()
    ) {
        self.store = store
        self.ownership = ownership
        // Another node may deliver a message this one accepted: its proxy waiters also look at the store.
        self.waiters = DeliveryWaiters(storePoll: store is any LaneChangeFeed ? .milliseconds(500) : nil)
        self.recorder = AttemptRecorder(store: store)
        self.metrics = metrics
        self.client = client
        self.options = configuration.options
        self.policy = RetryPolicy(
            maximumAttempts: configuration.options.maxAttempts, unauthorizedPause: configuration.options.unauthorizedPause)
        self.logger = logger
        self.scheduler = LaneScheduler(window: configuration.options.laneWindow)
        for bot in configuration.bots {
            // Sends count in the windows until answered (`recordAnswered`), so transit delays are
            // covered already; the margin only absorbs timer granularity.
            // A bot with paid broadcasts keeps the free 30/s for ordinary sends; sends that carry
            // `allow_paid_broadcast: true` may go at `per_second` (up to 1000/s).
            let rate = WindowLimit(count: Int(bot.perSecond.rounded(.up)), per: 1)
            let limits = RateLimits(
                group: WindowLimit(count: 20, per: 60, spacing: configuration.options.groupSpacing),
                bot: bot.paidBroadcast ? RateLimits.telegramDefaults.bot : rate,
                paidBroadcast: bot.paidBroadcast ? rate : nil, safetyMargin: 0.005)
            bots[bot.name] = BotRuntime(
                bot: bot, limiter: RateLimiter(limits: limits),
                endpoints: EndpointSelector(baseURLs: configuration.telegramEndpoints),
                enforceLimits: configuration.options.enforceRateLimits)
        }
    }

    /// Works for the bots this node holds the lease of (`takeOver`, `giveUp`) until graceful shutdown.
    public func run() async throws {
        logger.info("dispatcher started")
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                while !stopping, !Task.isCancelled {
                    let now = Date()
                    scheduler.promoteDue(now: now)
                    for name in bots.keys where ownership.owns(name) {
                        await loadLanes(bot: name)
                        startDueProbes(bot: name, now: now, group: &group)
                        dispatchReadyLanes(bot: name, now: now, group: &group)
                    }
                    await sleep(until: nextWake(now: now))
                }
            }
        } onGracefulShutdown: {
            Task { await self.beginShutdown() }
        }
        logger.info("dispatcher stopped; in-flight sends finished")
    }

    /// New work in these lanes (accepts, replays, reactivations). Returns at once: an accept must not
    /// queue behind the dispatcher's own work on the actor. One task per burst hands the lanes over.
    public nonisolated func lanesChanged(_ lanes: some Sequence<LaneKey>) {
        let startsBurst = newWork.withLock { pending in
            let wasEmpty = pending.isEmpty
            pending.append(contentsOf: lanes)
            return wasEmpty && !pending.isEmpty
        }
        if startsBurst { Task { await self.takeNewWork() } }
    }

    private func takeNewWork() {
        let lanes = newWork.withLock { pending in
            defer { pending = [] }
            return pending
        }
        for lane in lanes where ownership.owns(lane.bot) {
            scheduler.touch(lane)
        }
        wake()
    }

    /// A chat was reactivated through the API: its messages go to Telegram again.
    public func chatReactivated(_ lane: LaneKey) {
        inactiveChats[lane] = nil
        lanesChanged([lane])
    }

    /// Reads one page of the bot's pending lanes into the scheduler when lanes may be waiting in the
    /// store and the window has room.
    private func loadLanes(bot name: String) async {
        guard let request = scheduler.pageRequest(bot: name, limit: Self.lanePage) else { return }
        do {
            let page = try await store.pendingLanes(bot: name, after: request.after, limit: request.limit)
            scheduler.loaded(page, for: request)
        } catch {
            logger.error("store error while loading lanes; retrying in 1 s", metadata: ["bot": "\(name)", "error": "\(error)"])
            try? await Task.sleep(for: .seconds(1))
        }
    }

    /// Lanes read from the store per page.
    static let lanePage = 1000
    /// Most lanes whose heads are read and marked `sending` together.
    static let laneBatch = 128

    /// Starts work on as many ready lanes of `bot` as its limits, its circuits and the in-flight cap allow.
    ///
    /// A popped lane takes its rate-limit slot only just before its request leaves (`takeSlot`), since
    /// Telegram counts arrivals: reading the head and marking it `sending` take variable time. To keep
    /// lanes from piling up in front of the limiter, only a few per bot are prepared at once.
    /// Popped lanes go in groups of up to `laneBatch`, each group's heads read and marked in one go.
    private func dispatchReadyLanes(bot name: String, now: Date, group: inout DiscardingTaskGroup) {
        guard let runtime = bots[name], let endpoint = runtime.endpoints.baseURLForSend else { return }
        let token = runtime.bot.token
        let enforceLimits = runtime.enforceLimits
        var batch: [LaneKey] = []
        var inactive: [LaneKey: String] = [:]
        func start() {
            let (lanes, reasons) = (batch, inactive)
            group.addTask { await self.process(lanes, inactive: reasons, endpoint: endpoint, token: token, enforceLimits: enforceLimits) }
            batch = []
            inactive = [:]
        }
        while inFlight < options.maxInFlight, (bots[name]?.preparing.count ?? 0) < runtime.preparingCap,
            runtime.limiter.earliestBotSend(paidBroadcast: runtime.bot.paidBroadcast, now: now) <= now,
            let lane = scheduler.popReady(bot: name)
        {
            // Failing fast costs no Telegram request, so an inactive chat never waits for its window.
            if inactiveChats[lane] == nil, runtime.enforceLimits {
                let laneTime = runtime.limiter.earliestLaneSend(lane, now: now)
                if laneTime > now {
                    scheduler.finish(lane, next: laneTime, now: now)
                    continue
                }
            }
            inFlight += 1
            bots[name]?.inFlight += 1
            bots[name]?.preparing.insert(lane)
            batch.append(lane)
            inactive[lane] = inactiveChats[lane]
            if batch.count == Self.laneBatch { start() }
        }
        if !batch.isEmpty { start() }
    }

    /// Runs the `getMe` probes of open circuits that are due.
    private func startDueProbes(bot name: String, now: Date, group: inout DiscardingTaskGroup) {
        guard var runtime = bots[name] else { return }
        for index in runtime.endpoints.probesDue(now: now) {
            runtime.endpoints.probeStarted(endpoint: index, now: now)
            let endpoint = runtime.endpoints.endpoints[index].baseURL
            let token = runtime.bot.token
            group.addTask { await self.probe(bot: name, endpoint: index, baseURL: endpoint, token: token) }
        }
        bots[name] = runtime
    }

    /// The earliest moment something could become possible: a lane timer, a bot's rate window, a probe.
    private func nextWake(now: Date) -> Date? {
        var times: [Date] = scheduler.nextTimer.map { [$0] } ?? []
        for (name, runtime) in bots where ownership.owns(name) {
            if scheduler.pageRequest(bot: name, limit: Self.lanePage) != nil { return now }
            if let probe = runtime.endpoints.nextProbeAt { times.append(probe) }
            if scheduler.readyCount(bot: name) > 0, inFlight < options.maxInFlight, runtime.preparing.count < runtime.preparingCap,
                runtime.endpoints.endpointForSend != nil
            {
                times.append(runtime.limiter.earliestBotSend(paidBroadcast: runtime.bot.paidBroadcast, now: now))
            }
        }
        return times.min()
    }

    // MARK: - Sleeping and waking

    func wake() {
        if let sleeper {
            self.sleeper = nil
            sleeper.resume()
        } else {
            wakePending = true
        }
    }

    private func sleep(until deadline: Date?) async {
        if wakePending || stopping || Task.isCancelled {
            wakePending = false
            return
        }
        let timer = deadline.map { deadline in
            Task {
                try? await Task.sleep(for: .seconds(max(0, deadline.timeIntervalSinceNow)))
                if !Task.isCancelled { await self.wake() }
            }
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { sleeper = $0 }
        } onCancel: {
            Task { await self.wake() }
        }
        wakePending = false
        timer?.cancel()
    }

    private func beginShutdown() {
        stopping = true
        wake()
    }
}
