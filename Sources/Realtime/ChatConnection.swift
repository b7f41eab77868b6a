import DequeModule
import NIOCore
import Synchronization

/// One client's connection as the hub sees it: who it is and its bounded outbound queue.
///
/// The transport takes the queue in batches (`take`) and writes each batch to the socket with
/// one flush; `whenReady` tells it when there is something to take. When the queue is full the
/// client is reading too slowly for the rooms it is in: the hub stops queueing for it, drops
/// what is queued and closes it with `slowConsumer`, so one slow reader never holds up the
/// fan-out to the others; the client reconnects and rejoins with `since`. Any other close lets
/// the transport write what is queued first.
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
        /// 4001: the account was deleted.
        public static let accountDeleted = Close(code: 4001, reason: "account deleted")
    }

    /// What `take` hands the transport.
    public struct Batch: Sendable {
        /// The queued frames, oldest first.
        public var frames: Deque<EncodedFrame>
        /// Set once the connection is closed: after these frames, close with it.
        public var close: Close?
    }

    private struct Queue {
        var frames: Deque<EncodedFrame> = []
        var close: Close?
        /// The transport's handler, waiting for a frame or the close.
        var whenReady: (@Sendable () -> Void)?
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

    /// Queues `frame` (encoded once and shared by every receiver); false when the
    /// connection is closed or its queue overflowed (it is then closed as a slow consumer).
    @discardableResult
    func send(_ frame: EncodedFrame) -> Bool {
        enum Outcome { case queued(ready: (@Sendable () -> Void)?), overflowed, closed }
        let outcome = queue.withLock { queue -> Outcome in
            guard queue.close == nil else { return .closed }
            guard queue.frames.count < limit else { return .overflowed }
            queue.frames.append(frame)
            return .queued(ready: queue.whenReady.take())
        }
        switch outcome {
        case .queued(let ready):
            ready?()
            return true
        case .overflowed:
            close(.slowConsumer)
            return false
        case .closed:
            return false
        }
    }

    /// Calls `handler` once, as soon as a frame is queued or the connection is closed (at once
    /// if either is so already). The transport's writer sets it again after each `take`.
    public func whenReady(_ handler: @escaping @Sendable () -> Void) {
        let ready = queue.withLock { queue -> Bool in
            if !queue.frames.isEmpty || queue.close != nil { return true }
            queue.whenReady = handler
            return false
        }
        if ready { handler() }
    }

    /// Takes every queued frame, and the close once the connection is closed.
    public func take() -> Batch {
        queue.withLock { queue in
            var frames: Deque<EncodedFrame> = []
            swap(&frames, &queue.frames)
            return Batch(frames: frames, close: queue.close)
        }
    }

    /// Sets what to do when the connection is closed (at once if it already is): the transport
    /// closes the socket of a slow consumer without waiting for its writes, which are stuck
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
        let (ready, onClose) = queue.withLock { queue -> ((@Sendable () -> Void)?, (@Sendable (Close) -> Void)?) in
            guard queue.close == nil else { return (nil, nil) }
            queue.close = reason
            if reason == .slowConsumer { queue.frames.removeAll() }
            return (queue.whenReady.take(), queue.onClose.take())
        }
        onClose?(reason)
        ready?()
    }

    public static func == (lhs: ChatConnection, rhs: ChatConnection) -> Bool { lhs.id == rhs.id }
    public func hash(into hasher: inout Hasher) { hasher.combine(id) }
}
