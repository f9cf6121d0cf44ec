import Foundation
import Hummingbird
import Logging
import Synchronization

/// All mutable simulator state, behind one lock (a test double favours simple over scalable).
struct SimState {
    var limiter: RateLimiter
    var faults = FaultBook()
    var chats = ChatBook()
    var files = FileBook()
    var recorder = Recorder()
    var rng: SeededRandom
    var bots: [Int64: BotUpdates] = [:]
    var scheduledUpdates: [(at: Double, bot: Int64, update: FakeJSON)] = []
    var webhookWorkers: [Int64: Task<Void, Never>] = [:]
    var nextWaiterID = 1
    var started = false
    var stopped = false
    var listenerOpen = false
    let seed: UInt64

    init(configuration: FakeTelegramConfiguration) {
        seed = configuration.seed
        limiter = RateLimiter(limits: configuration.scenario?.limits ?? configuration.limits)
        rng = SeededRandom(seed: configuration.seed)
    }

    mutating func makeWaiterID() -> Int {
        defer { nextWaiterID += 1 }
        return nextWaiterID
    }

    /// A bot's update state, created with a seed-derived first update_id (Telegram's ids do not start at 1).
    mutating func bot(_ id: Int64) -> BotUpdates {
        if let existing = bots[id] { return existing }
        let first = 100_000_000 + Int64(SeededRandom.derived(seed: seed, key: UInt64(bitPattern: id)) % 800_000_000)
        let fresh = BotUpdates(nextID: first)
        bots[id] = fresh
        return fresh
    }

    mutating func withBot<T>(_ id: Int64, _ body: (inout BotUpdates) throws -> T) rethrows -> T {
        var b = bot(id)
        defer { bots[id] = b }
        return try body(&b)
    }
}

/// The Bot API simulator: a real HTTP server on loopback that answers `/bot<token>/<method>` like
/// api.telegram.org — limits, errors, faults, updates, webhooks — and records everything for
/// assertions, via `/_fake/...` over HTTP or the Swift accessors below.
public final class FakeTelegram: Sendable {
    public let configuration: FakeTelegramConfiguration
    let logger: Logger
    let clock: SimClock
    let state: Mutex<SimState>
    /// Chat keys answered with "chat not found" (configuration and scenario).
    let unknownChats: Set<String>
    private let listenerBox = Mutex<Listener?>(nil)
    private let ticker = Mutex<Task<Void, Never>?>(nil)
    private let boundPort = Mutex<Int?>(nil)

    public init(configuration: FakeTelegramConfiguration = .init(), logger: Logger = FakeTelegram.defaultLogger()) {
        self.configuration = configuration
        self.logger = logger
        self.clock = SimClock(startDate: configuration.startDate ?? Date())
        self.state = Mutex(SimState(configuration: configuration))
        let listed = configuration.unknownChats.union(configuration.scenario?.unknownChats ?? [])
        self.unknownChats = Set(listed.map { FakeChatRef(parameter: $0)?.key ?? $0 })
    }

    /// Quiet by default: tests should not drown in server start/stop lines.
    public static func defaultLogger() -> Logger {
        var logger = Logger(label: "FakeTelegram")
        logger.logLevel = .warning
        return logger
    }

    var listener: Listener {
        listenerBox.withLock { box in
            if let box { return box }
            let responder = SimResponder { [weak self] request, channel in
                guard let self else { throw ConnectionDropped() }
                return try await self.handle(request, channel: channel)
            }
            let made = Listener(host: configuration.host, logger: logger, responder: responder)
            box = made
            return made
        }
    }

    /// Binds the port (0 = ephemeral), arms the scenario and serves in the background.
    /// Returns the bound port.
    @discardableResult
    public func start() async throws -> Int {
        if let port = boundPort.withLock({ $0 }) { return port }
        let port = try await listener.open(port: configuration.port)
        boundPort.withLock { $0 = port }
        let now = clock.now()
        state.withLock { s in
            s.started = true
            s.listenerOpen = true
            if let scenario = configuration.scenario {
                for fault in scenario.faults { _ = s.faults.add(fault, base: now, fromScenario: true) }
                s.scheduledUpdates = scenario.updates.map { (now + $0.at, $0.bot, $0.update) }
            }
        }
        let task = Task { [weak self] in
            guard let self else { return }
            await self.tick()
        }
        ticker.withLock { $0 = task }
        logger.info("FakeTelegram listening on \(configuration.host):\(port)")
        return port
    }

    /// Stops serving: closes the listener and every connection, ends long polls, hangs and webhook pushes.
    public func stop() async {
        let (workers, waiters) = state.withLock { s -> ([Task<Void, Never>], [CheckedContinuation<Void, Never>]) in
            s.stopped = true
            let workers = Array(s.webhookWorkers.values)
            s.webhookWorkers.removeAll()
            var waiters: [CheckedContinuation<Void, Never>] = []
            for id in s.bots.keys {
                waiters += s.bots[id]!.waiters.values
                s.bots[id]!.waiters.removeAll()
            }
            return (workers, waiters)
        }
        waiters.forEach { $0.resume() }
        workers.forEach { $0.cancel() }
        ticker.withLock { $0 }?.cancel()
        await listener.shutdown()
        for worker in workers { await worker.value }
    }

    /// Serves until the surrounding task is cancelled (what the CLI does).
    public func run() async throws {
        try await start()
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(3600))
        }
        await stop()
    }

    /// The bound port, once started.
    public var port: Int? { boundPort.withLock { $0 } }

    /// "http://127.0.0.1:<port>", the Bot API base URL for clients (append "/bot<token>/<method>").
    public var baseURL: String {
        let host = configuration.host == "0.0.0.0" ? "127.0.0.1" : configuration.host
        return "http://\(host):\(port ?? configuration.port)"
    }

    /// Drives everything that happens on its own: refused-connection windows, scheduled updates.
    private func tick() async {
        while !Task.isCancelled {
            let now = clock.now()
            let (refuse, isOpen, due, stopped) = state.withLock { s in
                s.faults.expire(now: now)
                let due = s.scheduledUpdates.filter { $0.at <= now }
                s.scheduledUpdates.removeAll { $0.at <= now }
                return (s.faults.refusing(now: now), s.listenerOpen, due, s.stopped)
            }
            if stopped { return }
            for item in due {
                _ = try? injectUpdate(bot: item.bot, update: item.update)
            }
            if refuse, isOpen {
                await listener.close()
                state.withLock { s in
                    s.listenerOpen = false
                    s.recorder.countFault(.refuseConnections)
                }
                logger.debug("refusing connections")
            } else if !refuse, !isOpen, let port {
                do {
                    _ = try await listener.open(port: port)
                    state.withLock { $0.listenerOpen = true }
                    logger.debug("accepting connections again on \(port)")
                } catch {
                    logger.debug("re-opening port \(port) failed, retrying: \(error)")
                }
            }
            try? await Task.sleep(for: .milliseconds(10))
        }
    }
}
