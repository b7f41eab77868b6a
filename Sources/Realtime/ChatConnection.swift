import Synchronization

/// One client's connection as the hub sees it: who it is and its bounded outbound queue.
///
/// The transport (the app's WebSocket route) runs a writer that takes `outbound` frame by frame
/// and writes each to the socket. When the queue is full the client is reading too slowly for
/// the rooms it is in: the hub stops queueing for it and ends the stream with `closeCode`
/// `slowConsumer`, so one slow reader never holds up the fan-out to the others; the client
/// reconnects and rejoins with `since`.
public final class ChatConnection: Sendable, Hashable {
    /// A WebSocket close code and reason.
    public struct Close: Sendable, Equatable {
        public var code: UInt16
        public var reason: String

        /// 4008: the outbound queue overflowed.
        public static let slowConsumer = Close(code: 4008, reason: "slow consumer")
        /// 1001: the server is shutting down.
        public static let goingAway = Close(code: 1001, reason: "server shutting down")
    }

    public let id: UInt64
    public let user: ChatUser
    /// The frames to write, in order.
    public let outbound: AsyncStream<String>
    private let continuation: AsyncStream<String>.Continuation
    private let closing = Mutex<Close?>(nil)

    init(id: UInt64, user: ChatUser, queueLimit: Int) {
        self.id = id
        self.user = user
        (outbound, continuation) = AsyncStream.makeStream(of: String.self, bufferingPolicy: .bufferingOldest(queueLimit))
    }

    /// Why the hub ended this connection, once it has: the transport closes the socket with it
    /// (and stops writing what is still queued).
    public var closeCode: Close? {
        closing.withLock { $0 }
    }

    /// Queues `frame`; false when the connection is closed or its queue overflowed (it is then
    /// closed as a slow consumer).
    @discardableResult
    func send(_ frame: String) -> Bool {
        if closing.withLock({ $0 }) != nil { return false }
        switch continuation.yield(frame) {
        case .enqueued:
            return true
        case .dropped:
            close(.slowConsumer)
            return false
        case .terminated:
            return false
        @unknown default:
            return false
        }
    }

    /// Ends the outbound stream with `reason`; the first reason wins.
    func close(_ reason: Close) {
        let first = closing.withLock { current -> Bool in
            guard current == nil else { return false }
            current = reason
            return true
        }
        if first { continuation.finish() }
    }

    public static func == (lhs: ChatConnection, rhs: ChatConnection) -> Bool { lhs.id == rhs.id }
    public func hash(into hasher: inout Hasher) { hasher.combine(id) }
}
