import DequeModule
import NIOCore
import Synchronization

/// One client's connection as the hub sees it: who it is and its bounded outbound queue.
///
/// The transport takes the queue in batches (`nextBatch`) and writes each batch to the socket
/// with one flush. When the queue is full the client is reading too slowly for the rooms it is
/// in: the hub stops queueing for it, drops what is queued and closes it with `slowConsumer`,
/// so one slow reader never holds up the fan-out to the others; the client reconnects and
/// rejoins with `since`. Any other close lets the transport write what is queued first.
public final class ChatConnection: Sendable, Hashable {
    /// A WebSocket close code and reason.
    public struct Close: Sendable, Equatable {
        public var code: UInt16
        public var reason: String

        public init(code: UInt16, reason: String) {
            self.code = code
            self.reason = reason
        }

        /// 1000: the connection ended normally.
        public static let normal = Close(code: 1000, reason: "closed")
        /// 4008: the outbound queue overflowed.
        public static let slowConsumer = Close(code: 4008, reason: "slow consumer")
        /// 1001: the server is shutting down.
        public static let goingAway = Close(code: 1001, reason: "server shutting down")
    }

    private struct Queue {
        var frames: Deque<ByteBuffer> = []
        var close: Close?
        /// The transport's writer, waiting for frames.
        var waiter: CheckedContinuation<Void, Never>?
        /// The transport's hook, called once when the connection is closed.
        var onClose: (@Sendable (Close) -> Void)?
    }

    public let id: UInt64
    public let user: ChatUser
    private let limit: Int
    private let queue = Mutex(Queue())

    init(id: UInt64, user: ChatUser, queueLimit: Int) {
        self.id = id
        self.user = user
        self.limit = queueLimit
    }

    /// Why the connection was closed, once it has been: the transport closes the socket with it.
    public var closeCode: Close? {
        queue.withLock { $0.close }
    }

    /// Queues `frame` (a JSON text, encoded once and shared by every receiver); false when the connection is closed or its queue overflowed (it is then
    /// closed as a slow consumer).
    @discardableResult
    func send(_ frame: ByteBuffer) -> Bool {
        enum Outcome { case queued(waiter: CheckedContinuation<Void, Never>?), overflowed, closed }
        let outcome = queue.withLock { queue -> Outcome in
            guard queue.close == nil else { return .closed }
            guard queue.frames.count < limit else { return .overflowed }
            queue.frames.append(frame)
            return .queued(waiter: queue.waiter.take())
        }
        switch outcome {
        case .queued(let waiter):
            waiter?.resume()
            return true
        case .overflowed:
            close(.slowConsumer)
            return false
        case .closed:
            return false
        }
    }

    /// Sets what to do when the connection is closed (at once if it already is): the transport
    /// closes the socket of a slow consumer without waiting for its writer, which is stuck
    /// behind the client's full buffers.
    public func onClose(_ handler: @escaping @Sendable (Close) -> Void) {
        let closed = queue.withLock { queue -> Close? in
            if let close = queue.close { return close }
            queue.onClose = handler
            return nil
        }
        if let closed { handler(closed) }
    }

    /// Closes the connection with `reason`; the first reason wins. Frames already queued are
    /// still given to the transport, except after a slow-consumer close.
    public func close(_ reason: Close) {
        let (waiter, onClose) = queue.withLock { queue -> (CheckedContinuation<Void, Never>?, (@Sendable (Close) -> Void)?) in
            guard queue.close == nil else { return (nil, nil) }
            queue.close = reason
            if reason == .slowConsumer { queue.frames.removeAll() }
            return (queue.waiter.take(), queue.onClose.take())
        }
        waiter?.resume()
        onClose?(reason)
    }

    /// Every queued frame, in order, waiting while there is none; nil once the connection is
    /// closed and nothing is left to write. One task (the transport's writer) calls it.
    public func nextBatch() async -> [ByteBuffer]? {
        while true {
            enum Next { case frames([ByteBuffer]), closed, wait }
            let next = queue.withLock { queue -> Next in
                if !queue.frames.isEmpty {
                    defer { queue.frames.removeAll(keepingCapacity: queue.frames.count <= 64) }
                    return .frames(Array(queue.frames))
                }
                return queue.close == nil ? .wait : .closed
            }
            switch next {
            case .frames(let frames): return frames
            case .closed: return nil
            case .wait:
                await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                    let ready = queue.withLock { queue -> Bool in
                        if !queue.frames.isEmpty || queue.close != nil { return true }
                        queue.waiter = continuation
                        return false
                    }
                    if ready { continuation.resume() }
                }
            }
        }
    }

    public static func == (lhs: ChatConnection, rhs: ChatConnection) -> Bool { lhs.id == rhs.id }
    public func hash(into hasher: inout Hasher) { hasher.combine(id) }
}
