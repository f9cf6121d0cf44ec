import Hummingbird
import Logging
import Synchronization

/// A NIO channel seen only through what the simulator does with it. (Closures keep NIO types out
/// of this target's declarations: it depends on Hummingbird alone.)
struct ConnectionHandle: Sendable {
    let id: ObjectIdentifier
    /// Closes the channel; awaiting it makes sure no byte of an answer can be written afterwards.
    let close: @Sendable () async -> Void
    let onClose: @Sendable (@escaping @Sendable () -> Void) -> Void
    let port: Int?

    init(channel: some AnyObject & Sendable, close: @escaping @Sendable () async -> Void,
         onClose: @escaping @Sendable (@escaping @Sendable () -> Void) -> Void, port: Int?) {
        self.id = ObjectIdentifier(channel)
        self.close = close
        self.onClose = onClose
        self.port = port
    }
}

extension ApplicationRequestContextSource {
    var connectionHandle: ConnectionHandle {
        let channel = self.channel
        return ConnectionHandle(
            channel: channel,
            close: { try? await channel.close().get() },
            onClose: { callback in channel.closeFuture.whenComplete { _ in callback() } },
            port: channel.localAddress?.port)
    }
}

/// Request context that keeps the connection, so that the simulator can drop it (lost answers,
/// hangs, refused connections) instead of answering.
struct SimRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let connection: ConnectionHandle

    init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.connection = source.connectionHandle
    }
}

struct SimResponder: HTTPResponder {
    typealias Context = SimRequestContext
    let handler: @Sendable (Request, ConnectionHandle) async throws -> Response

    func respond(to request: Request, context: SimRequestContext) async throws -> Response {
        try await handler(request, context.connection)
    }
}

/// Thrown after the simulator closed a connection on purpose; Hummingbird's attempt to write an
/// answer to the closed channel then fails silently.
struct ConnectionDropped: Error {}

/// Open client connections, so that "refuse connections" also cuts keep-alive connections
/// (a real outage does not leave pooled connections working).
final class ConnectionRegistry: Sendable {
    private let channels = Mutex<[ObjectIdentifier: ConnectionHandle]>([:])

    func track(_ channel: ConnectionHandle) {
        let id = channel.id
        let isNew = channels.withLock { dict in
            guard dict[id] == nil else { return false }
            dict[id] = channel
            return true
        }
        if isNew {
            channel.onClose { [weak self] in
                _ = self?.channels.withLock { $0.removeValue(forKey: id) }
            }
        }
    }

    func closeAll() async {
        let all = channels.withLock { dict in
            defer { dict.removeAll() }
            return Array(dict.values)
        }
        for channel in all {
            await channel.close()
        }
    }
}

/// Runs the Hummingbird server and can close and re-open its listening socket on the same port.
actor Listener {
    private let host: String
    private let logger: Logger
    private let responder: SimResponder
    private var serverChannel: ConnectionHandle?
    private var runTask: Task<Void, Never>?
    private var finishedTasks: [Task<Void, Never>] = []
    private(set) var port: Int?
    let connections = ConnectionRegistry()

    init(host: String, logger: Logger, responder: SimResponder) {
        self.host = host
        self.logger = logger
        self.responder = responder
    }

    var isOpen: Bool { serverChannel != nil }

    /// Binds `port` (0 = ephemeral) and returns the bound port.
    func open(port requested: Int) async throws -> Int {
        if let port, serverChannel != nil { return port }
        let (stream, continuation) = AsyncStream<Result<ConnectionHandle, any Error>>.makeStream()
        let app = Application(
            responder: responder,
            configuration: .init(address: .hostname(host, port: requested), serverName: nil),
            onServerRunning: { channel in
                let handle = ConnectionHandle(
                    channel: channel, close: { try? await channel.close().get() },
                    onClose: { callback in channel.closeFuture.whenComplete { _ in callback() } },
                    port: channel.localAddress?.port)
                continuation.yield(.success(handle))
            },
            logger: logger
        )
        let task = Task {
            do {
                try await app.run()
            } catch {
                continuation.yield(.failure(error))
            }
            continuation.finish()
        }
        for await result in stream {
            switch result {
            case .success(let channel):
                serverChannel = channel
                runTask = task
                let bound = channel.port ?? requested
                port = bound
                return bound
            case .failure(let error):
                throw error
            }
        }
        throw ListenerError.didNotStart
    }

    /// Closes the listening socket and every open connection: clients now get "connection refused".
    func close() async {
        guard let channel = serverChannel else { return }
        serverChannel = nil
        await channel.close()
        await connections.closeAll()
        if let runTask {
            runTask.cancel()
            finishedTasks.append(runTask)
        }
        runTask = nil
    }

    /// Closes everything and waits for the server tasks to end.
    func shutdown() async {
        await close()
        let tasks = finishedTasks
        finishedTasks = []
        for task in tasks { await task.value }
    }
}

enum ListenerError: Error {
    case didNotStart
}
