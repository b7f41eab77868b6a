import Logging
import NIOCore
import NIOWebSocket
import ServiceLifecycle
import Synchronization

/// Runs one upgraded WebSocket as a chat connection: reads the client's frames into a
/// `ChatSession`, writes the connection's queue in batches (one flush per batch), pings the
/// peer, and closes with the right code. Written by hand over SwiftNIO's WebSocket frames: the
/// chat protocol needs the close codes, the batching and the shutdown order below, which a
/// generic WebSocket handler does not give.
///
/// - **Reading** is one frame at a time: a client's sends are stored in the order it sent them.
///   Fragmented messages arrive whole (the pipeline's `NIOWebSocketFrameAggregator`); a frame
///   or message over `maxFrameSize` closes with 1009.
/// - **Pings.** Every `pingInterval` the server pings; a peer that has not answered the
///   previous ping by then is dead and its socket is closed.
/// - **Shutdown** (graceful shutdown of the server): no further frame is read; the frame being
///   handled finishes (a `send` is stored and acknowledged), then the queue is written and the
///   socket closed with 1001.
public enum ChatSocket {
    public struct Configuration: Sendable {
        /// The largest frame, or fragmented message, a client may send: larger closes with 1009.
        public var maxFrameSize = 64 * 1024
        /// How often the server pings; two intervals without a pong end the connection.
        public var pingInterval: Duration = .seconds(30)
        /// How long to wait for the client's answer to the server's close frame.
        public var closeTimeout: Duration = .seconds(5)
        public var limits = ChatSession.Limits()

        public init() {}
    }

    /// Serves `user` on `channel` until either side closes it.
    public static func run(_ channel: NIOAsyncChannel<WebSocketFrame, WebSocketFrame>, user: ChatUser, hub: ChatHub,
                           access: any ChatRoomAccess, configuration: Configuration, logger: Logger) async {
        guard let connection = hub.connect(user) else {
            // The server is shutting down.
            let frame = closeFrame(.goingAway, allocator: channel.channel.allocator)
            try? await channel.executeThenClose { _, outbound in try await outbound.write(frame) }
            return
        }
        let state = SocketState(connection: connection)
        let closeTimeout = TimeAmount(configuration.closeTimeout)
        connection.onClose { close in
            // The writer of a slow consumer is stuck behind the client's full buffers: the close
            // frame goes straight to the channel, and the socket closes after the timeout.
            guard close == .slowConsumer else { return }
            channel.channel.writeAndFlush(closeFrame(close, allocator: channel.channel.allocator), promise: nil)
            channel.channel.eventLoop.scheduleTask(in: closeTimeout) { channel.channel.close(promise: nil) }
        }
        var session = ChatSession(connection: connection, hub: hub, access: access, limits: configuration.limits, logger: logger)
        let raw = channel.channel
        let pinger = raw.eventLoop.scheduleRepeatedTask(initialDelay: .init(configuration.pingInterval),
                                                        delay: .init(configuration.pingInterval)) { _ in
            if state.ping() {
                raw.writeAndFlush(WebSocketFrame(fin: true, opcode: .ping, data: raw.allocator.buffer(capacity: 0)), promise: nil)
            } else {
                logger.debug("chat peer did not answer a ping", metadata: ["user": "\(user.id)"])
                raw.close(promise: nil)
            }
        }
        defer { pinger.cancel() }
        await withGracefulShutdownHandler {
            do {
                try await channel.executeThenClose { inbound, outbound in
                    try await withThrowingDiscardingTaskGroup { group in
                        group.addTask {
                            try await writeQueue(of: connection, to: outbound, state: state, raw: raw,
                                                 closeTimeout: configuration.closeTimeout)
                        }
                        do {
                            reading: for try await frame in inbound {
                                switch frame.opcode {
                                case .text:
                                    guard state.beginFrame() else { continue }
                                    await session.handle(text: frame.unmaskedData.readableBytesView)
                                    state.endFrame()
                                case .binary:
                                    guard state.beginFrame() else { continue }
                                    connection.send(ServerFrame.error(code: "malformed", message: "Send text frames of JSON.", room: nil).encoded())
                                    state.endFrame()
                                case .ping:
                                    var data = frame.unmaskedData
                                    let pong = WebSocketFrame(fin: true, opcode: .pong, data: data.readSlice(length: min(data.readableBytes, 125)) ?? data)
                                    try await outbound.write(pong)
                                case .pong:
                                    state.pong()
                                case .connectionClose:
                                    // Answer with the client's own code, unless the server's close is already sent.
                                    var data = frame.unmaskedData
                                    let code = data.readWebSocketErrorCode().map(UInt16.init(webSocketErrorCode:)) ?? 1000
                                    connection.close(ChatConnection.Close(code: code == 1005 ? 1000 : code, reason: ""))
                                    break reading
                                default:
                                    continue
                                }
                            }
                        } catch {
                            // An oversize or broken frame: the pipeline's error handler has closed
                            // with 1002 or 1009 already, unless the message was fragmented.
                            logger.debug("chat socket read failed", metadata: ["error": "\(error)"])
                            if error is NIOWebSocketFrameAggregator.Error {
                                connection.close(ChatConnection.Close(code: 1009, reason: "message too large"))
                            }
                        }
                        hub.disconnect(connection)
                    }
                }
            } catch {
                logger.debug("chat socket ended", metadata: ["error": "\(error)"])
            }
        } onGracefulShutdown: {
            state.stop()
        }
        hub.disconnect(connection)
    }

    /// Writes the connection's queue until it closes, then the close frame; then waits for the
    /// client's answer at most `closeTimeout` before closing the socket.
    private static func writeQueue(of connection: ChatConnection, to outbound: NIOAsyncChannelOutboundWriter<WebSocketFrame>,
                                   state: SocketState, raw: any Channel, closeTimeout: Duration) async throws {
        while let batch = await connection.nextBatch() {
            if connection.closeCode == .slowConsumer { break }
            try await outbound.write(contentsOf: batch.map { WebSocketFrame(fin: true, opcode: .text, data: $0) })
        }
        let close = connection.closeCode ?? .normal
        guard close != .slowConsumer else { return }  // closed by the connection's `onClose`
        try await outbound.write(closeFrame(close, allocator: raw.allocator))
        raw.eventLoop.scheduleTask(in: .init(closeTimeout)) { raw.close(promise: nil) }
    }

    static func closeFrame(_ close: ChatConnection.Close, allocator: ByteBufferAllocator) -> WebSocketFrame {
        var data = allocator.buffer(capacity: 2 + close.reason.utf8.count)
        data.write(webSocketErrorCode: WebSocketErrorCode(codeNumber: Int(close.code)))
        data.writeString(close.reason)
        return WebSocketFrame(fin: true, opcode: .connectionClose, data: data)
    }
}

/// What the reader, the pinger and the shutdown handler of one socket share.
private final class SocketState: Sendable {
    private struct Value {
        var busy = false
        var stopping = false
        var awaitingPong = false
    }

    private let value = Mutex(Value())
    private let connection: ChatConnection

    init(connection: ChatConnection) {
        self.connection = connection
    }

    /// Whether to handle the next frame: false once the server is shutting down.
    func beginFrame() -> Bool {
        value.withLock { value in
            guard !value.stopping else { return false }
            value.busy = true
            return true
        }
    }

    func endFrame() {
        let stop = value.withLock { value in
            value.busy = false
            return value.stopping
        }
        if stop { connection.close(.goingAway) }
    }

    /// The server is shutting down: close now, or after the frame being handled.
    func stop() {
        let idle = value.withLock { value in
            value.stopping = true
            return !value.busy
        }
        if idle { connection.close(.goingAway) }
    }

    /// Records a ping going out; false when the last one was never answered.
    func ping() -> Bool {
        value.withLock { value in
            guard !value.awaitingPong else { return false }
            value.awaitingPong = true
            return true
        }
    }

    func pong() {
        value.withLock { $0.awaitingPong = false }
    }
}
