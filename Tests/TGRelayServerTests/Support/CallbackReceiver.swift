import Foundation
import Hummingbird
import Logging
import NIOCore
import Synchronization

/// A stand-in for an operator's callback endpoint: a Hummingbird server on an ephemeral loopback port
/// that records every POST and can be told to answer 503 for a while.
final class CallbackReceiver: Sendable {
    struct Received: Sendable {
        var path: String
        var headers: [String: String]
        var body: Data
        /// What the receiver answered.
        var status: Int
        var at: Date

        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:] }
    }

    private struct State {
        var received: [Received] = []
        /// Answer 503 to this many requests first.
        var failuresLeft = 0
        var failAlways = false
        /// How long each answer takes, and the most requests seen in progress at once.
        var delay: Duration = .zero
        var inProgress = 0
        var mostInProgress = 0
    }

    private let state = Mutex(State())
    private let task = Mutex<Task<Void, Never>?>(nil)
    private let channel = Mutex<(any Channel)?>(nil)

    /// Starts listening and returns the base URL (`http://127.0.0.1:<port>`).
    func start() async throws -> String {
        let router = Router()
        router.post(":path") { [self] request, context in
            let body = try await request.body.collect(upTo: 1 << 20)
            var headers: [String: String] = [:]
            for field in request.headers { headers[field.name.canonicalName] = field.value }
            let path = context.parameters.get("path") ?? ""
            let delay = state.withLock { state in
                state.inProgress += 1
                state.mostInProgress = max(state.mostInProgress, state.inProgress)
                return state.delay
            }
            if delay > .zero { try? await Task.sleep(for: delay) }
            let status = state.withLock { state in
                state.inProgress -= 1
                let fail = state.failAlways || state.failuresLeft > 0
                if state.failuresLeft > 0 { state.failuresLeft -= 1 }
                let status = fail ? 503 : 200
                state.received.append(Received(path: path, headers: headers, body: Data(buffer: body), status: status, at: Date()))
                return status
            }
            return Response(status: .init(code: status))
        }
        let (stream, continuation) = AsyncStream<Int>.makeStream()
        var logger = Logger(label: "callback-receiver")
        logger.logLevel = .warning
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { [self] channel in
                self.channel.withLock { $0 = channel }
                continuation.yield(channel.localAddress?.port ?? 0)
            },
            logger: logger)
        task.withLock { $0 = Task { try? await app.run(); continuation.finish() } }
        for await port in stream { return "http://127.0.0.1:\(port)" }
        throw CallbackReceiverError.didNotStart
    }

    func stop() async {
        let channel = channel.withLock { $0 }
        try? await channel?.close().get()
        let task = task.withLock { $0 }
        task?.cancel()
        await task?.value
    }

    func failNext(_ count: Int) { state.withLock { $0.failuresLeft = count } }
    func failAlways(_ on: Bool) { state.withLock { $0.failAlways = on } }
    func answer(after delay: Duration) { state.withLock { $0.delay = delay } }
    var mostInProgress: Int { state.withLock { $0.mostInProgress } }

    var received: [Received] { state.withLock { $0.received } }
    /// Requests answered 2xx.
    var accepted: [Received] { received.filter { $0.status == 200 } }
}

enum CallbackReceiverError: Error {
    case didNotStart
}
