import Logging
import NIOCore
import PostgresNIO
import Synchronization

/// The one LISTEN connection of a `PostgresStore`: delivers the `NOTIFY` payloads of the channels
/// subscribed to, and survives the loss of its connection.
///
/// NOTIFY is delivered only to listeners connected when it commits, so a listener that was away
/// has missed some. After every reconnect, each subscription's `resume` runs: the subscriber
/// catches up from the database (the queue looks for due jobs, the chat reads the messages past
/// the last seq it fanned out). Payloads are therefore only hints (a pointer such as room and
/// seq, never a body: NOTIFY carries at most 8,000 bytes), and the database stays the truth.
///
/// A subscription made while the connection is up reconnects it with the new channel added (and
/// every `resume` runs, which is harmless). Hand-written: PostgresNIO offers LISTEN on a single
/// connection, with no reconnection.
public final class PostgresListener: Sendable {
    public struct Subscription: Sendable {
        let channel: String
        let notify: @Sendable (String) -> Void
        let resume: @Sendable () -> Void
    }

    private let configuration: PostgresConnection.Configuration
    private let logger: Logger
    private let state = Mutex<State>(State())

    private struct State {
        var subscriptions: [Subscription] = []
        var task: Task<Void, Never>?
        /// Bumped by every subscription: the running connection sees it changed and reconnects.
        var generation = 0
        var connectedGeneration = -1
        var closed = false
    }

    init(configuration: PostgresConnection.Configuration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    /// Delivers every notification on `channel` to `notify` (on the listener's task: keep it short,
    /// hand longer work to a task of your own), and calls `resume` after each reconnection.
    /// Returns once the channel is listened to, so a NOTIFY committed afterwards is delivered.
    public func subscribe(channel: String, notify: @escaping @Sendable (String) -> Void,
                          resume: @escaping @Sendable () -> Void) async throws {
        let target = state.withLock { state -> Int? in
            guard !state.closed else { return nil }
            state.subscriptions.append(Subscription(channel: channel, notify: notify, resume: resume))
            state.generation += 1
            if state.task == nil { state.task = Task { await self.run() } }
            return state.generation
        }
        guard let target else { throw DatabaseUnavailable("the database is closed") }
        // Wait until a connection listening to this channel is up (it goes on trying afterwards).
        let deadline = ContinuousClock.now + .seconds(10)
        while state.withLock({ $0.connectedGeneration < target && !$0.closed }) {
            if ContinuousClock.now > deadline { throw DatabaseUnavailable("PostgreSQL: LISTEN \(channel) is not up after 10 s") }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    /// Ends the connection; no delivery follows.
    func close() async {
        let task = state.withLock { state -> Task<Void, Never>? in
            state.closed = true
            return state.task
        }
        task?.cancel()
        await task?.value
    }

    private func run() async {
        var connectedBefore = false
        var backoff = Duration.milliseconds(50)
        while !Task.isCancelled {
            let (generation, subscriptions) = state.withLock { ($0.generation, $0.subscriptions) }
            do {
                let connection = try await PostgresConnection.connect(
                    configuration: configuration, id: 0, logger: logger)
                backoff = .milliseconds(50)
                do {
                    try await listen(on: connection, generation: generation, subscriptions: subscriptions,
                                     resume: connectedBefore)
                } catch {
                    if !Task.isCancelled, state.withLock({ $0.generation == generation }) {
                        logger.warning("notification listener lost its connection; reconnecting", metadata: ["error": "\(String(reflecting: error))"])
                    }
                }
                connectedBefore = true
                // Closed before its last reference goes (a LISTEN task may hold one); closing one
                // the server has ended already fails at once.
                try? await connection.close().get()
            } catch {
                if Task.isCancelled { break }
                logger.warning("notification listener cannot connect; retrying", metadata: ["error": "\(error)", "in": "\(backoff)"])
                try? await Task.sleep(for: backoff)
                backoff = min(backoff * 2, .seconds(2))
            }
        }
    }

    /// Listens to every channel until the connection fails, the task is cancelled, or a new
    /// subscription arrives (then returns, to reconnect with it).
    ///
    /// Each channel's LISTEN runs in a task of its own that nothing waits for: PostgresNIO drops a
    /// query written to a connection that has just closed (see `PostgresStore.watchingClose`),
    /// and a LISTEN lost that way would never end. The connection's close ends the wait instead,
    /// and such a task is left behind.
    private func listen(on connection: PostgresConnection, generation: Int, subscriptions: [Subscription],
                        resume: Bool) async throws {
        let channels = Dictionary(grouping: subscriptions, by: \.channel)
        let (events, sink) = AsyncStream.makeStream(of: ListenerEvent.self)
        connection.closeFuture.whenComplete { _ in sink.yield(.lost) }
        let listeners = channels.map { channel, subscribers in
            Task {
                try? await connection.listen(on: channel) { notifications in
                    sink.yield(.listening)
                    for try await notification in notifications {
                        for subscriber in subscribers { subscriber.notify(notification.payload) }
                    }
                }
                sink.yield(.lost)
            }
        }
        let poller = Task {
            // A new subscription, or `close`: reconnect, or stop.
            while !Task.isCancelled {
                if self.state.withLock({ $0.generation != generation || $0.closed }) { break }
                try? await Task.sleep(for: .milliseconds(50))
            }
            sink.yield(.changed)
        }
        defer {
            poller.cancel()
            for listener in listeners { listener.cancel() }
            sink.finish()
        }
        var listening = 0
        for await event in events {
            switch event {
            case .listening:
                listening += 1
                guard listening == channels.count else { continue }
                state.withLock { $0.connectedGeneration = generation }
                if resume { for subscription in subscriptions { subscription.resume() } }
            case .lost: throw ListenerConnectionLost()
            case .changed: return
            }
        }
    }
}

/// What ends or advances `PostgresListener.listen`.
private enum ListenerEvent: Sendable {
    /// One more channel is listened to.
    case listening
    /// The connection closed, or a channel's notifications ended.
    case lost
    /// The subscriptions changed, or the listener closed.
    case changed
}

/// The LISTEN connection closed, or a channel's notifications ended.
struct ListenerConnectionLost: Error {}
