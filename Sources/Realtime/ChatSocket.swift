import Logging
import NIOCore
import NIOWebSocket
import ServiceLifecycle
import Synchronization

/// Runs one upgraded WebSocket as a chat connection: reads the client's frames into a
/// `ChatSession`, writes the connection's queue in batches (`ChatSocketWriter`), pings the peer, and
/// closes with the right code. Written by hand over SwiftNIO's WebSocket frames: the
/// chat protocol needs the close codes, the batching and the shutdown order below, which a
/// generic WebSocket handler does not give.
///
/// - **Reading** is one frame at a time: a client's sends are stored in the order it sent them.
///   Fragmented messages arrive whole (the pipeline's `NIOWebSocketFrameAggregator`); a frame
///   or message over `maxFrameSize` closes with 1009.
/// - **Pings.** Every `pingInterval` the server pings; a peer from which nothing at all (a pong
///   or any other frame) has arrived since the previous ping is dead and its socket is closed.
///   What arrives is noted on the event loop as the bytes come in (`ChatSocketWriter`), so a
///   backlog of frames waiting to be handled never makes a live peer look dead.
/// - **Shutdown** (graceful shutdown of the server): no further frame is read; the frame being
///   handled finishes (a `send` is stored and acknowledged), then the queue is written and the
///   socket closed with 1001.
public enum ChatSocket {
    public struct Configuration: Sendable {
        /// The largest frame, or fragmented message, a client may send: larger closes with 1009.
        public var maxFrameSize = 64 * 1024
        /// How often the server pings; an interval after a ping with nothing from the peer ends the connection.
        public var pingInterval: Duration = .seconds(30)
        /// How long to wait for the client's answer to the server's close frame.
        public var closeTimeout: Duration = .seconds(5)
        public var limits = ChatSession.Limits()

        public init() {}
    }

    /// Serves `user` on `channel` until either side closes it.
    public static func run(_ channel: NIOAsyncChannel<WebSocketFrame, WebSocketFrame>, user: ChatUser, hub: ChatHub,
                           access: any ChatRoomAccess, configuration: Configuration, logger: Logger) async {
        let raw = channel.channel
        guard let connection = hub.connect(user) else {
            // The server is shutting down.
            let frame = WebSocketFrame(fin: true, opcode: .connectionClose, data: closePayload(.goingAway))
            try? await channel.executeThenClose { _, outbound in try await outbound.write(frame) }
            return
        }
        let state = SocketState(connection: connection)
        let closeWritten: EventLoopFuture<Void>
        do {
            closeWritten = try await ChatSocketWriter.install(on: raw, for: connection, pingInterval: .init(configuration.pingInterval),
                                                              closeTimeout: .init(configuration.closeTimeout), logger: logger)
        } catch {
            logger.debug("chat socket closed before it was served", metadata: ["error": "\(error)"])
            hub.disconnect(connection)
            try? await channel.executeThenClose { _, _ in }
            return
        }
        var session = ChatSession(connection: connection, hub: hub, access: access, limits: configuration.limits, logger: logger)
        await withGracefulShutdownHandler {
            do {
                try await channel.executeThenClose { inbound, _ in
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
                                raw.writeAndFlush(pong, promise: nil)
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
                    // The queue and the close frame are written before the socket closes.
                    try? await closeWritten.get()
                }
            } catch {
                logger.debug("chat socket ended", metadata: ["error": "\(error)"])
            }
        } onGracefulShutdown: {
            state.stop()
        }
        hub.disconnect(connection)
    }

    /// A close frame's payload: `close`'s code and reason.
    static func closePayload(_ close: ChatConnection.Close) -> ByteBuffer {
        var payload = ByteBuffer()
        payload.write(webSocketErrorCode: WebSocketErrorCode(codeNumber: Int(close.code)))
        payload.writeString(String(decoding: close.reason.utf8.prefix(123), as: UTF8.self))
        return payload
    }
}

/// Writes a connection's queue to its socket, on the channel's event loop: each time the
/// connection has frames, it takes them all, writes them and flushes once. There is no task per
/// connection: a wake-up is one event-loop job. The frames come encoded for the wire
/// (`EncodedFrame`), the same bytes for every receiver, so the writer sits on the socket side of
/// the pipeline's WebSocket encoder and its writes go straight to the socket.
///
/// While the channel is not writable (the client reads slower than its rooms send) the writer
/// takes nothing, so frames wait in the connection's bounded queue, which closes a slow consumer;
/// it drains again when the channel becomes writable. Once the connection is closed it writes
/// what is queued, whatever the writability (nothing, for a slow consumer, whose queue was
/// dropped), then the close frame, and closes the socket if the client has not answered within
/// the close timeout.
///
/// It also keeps the connection alive: every ping interval it writes a ping, and closes the socket
/// if no byte has come from the peer since the previous one. Sitting first on the inbound side,
/// it sees the peer's bytes as they arrive, before any frame waits to be handled.
final class ChatSocketWriter: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// An empty ping frame, as the server sends it (unmasked).
    private static let ping: [UInt8] = [0x89, 0x00]

    private let connection: ChatConnection
    private let pingInterval: TimeAmount
    private let closeTimeout: TimeAmount
    private let logger: Logger
    private let closeWritten: EventLoopPromise<Void>
    private var context: ChannelHandlerContext?
    private var wake: (@Sendable () -> Void)?
    private var pinger: RepeatedTask?
    private var heardSincePing = true
    private var waitingForWritability = false
    private var done = false

    /// Adds a writer for `connection` to `channel`'s pipeline; its future completes once the close
    /// frame has been written, or could not be.
    static func install(on channel: any Channel, for connection: ChatConnection, pingInterval: TimeAmount,
                        closeTimeout: TimeAmount, logger: Logger) async throws -> EventLoopFuture<Void> {
        try await channel.eventLoop.submit {
            let writer = ChatSocketWriter(connection: connection, pingInterval: pingInterval, closeTimeout: closeTimeout,
                                          logger: logger, eventLoop: channel.eventLoop)
            let encoder = try channel.pipeline.syncOperations.context(handlerType: WebSocketFrameEncoder.self)
            try channel.pipeline.syncOperations.addHandler(writer, position: .before(encoder.handler))
            return writer.closeWritten.futureResult
        }.get()
    }

    private init(connection: ChatConnection, pingInterval: TimeAmount, closeTimeout: TimeAmount, logger: Logger, eventLoop: any EventLoop) {
        self.connection = connection
        self.pingInterval = pingInterval
        self.closeTimeout = closeTimeout
        self.logger = logger
        self.closeWritten = eventLoop.makePromise()
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        let eventLoop = context.eventLoop
        let writer = NIOLoopBound(self, eventLoop: eventLoop)
        let wake: @Sendable () -> Void = { eventLoop.execute { writer.value.drain() } }
        self.wake = wake
        connection.whenReady(wake)
        // A close is written at once, even while the socket is not writable (a slow consumer).
        connection.onClose { _ in wake() }
        pinger = eventLoop.scheduleRepeatedTask(initialDelay: pingInterval, delay: pingInterval) { _ in writer.value.keepAlive() }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        pinger?.cancel()
        pinger = nil
        finish()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        heardSincePing = true
        context.fireChannelRead(data)
    }

    /// Pings the peer, or closes the socket if nothing came from it since the last ping.
    private func keepAlive() {
        guard !done, let context else { return }
        guard heardSincePing else {
            logger.debug("chat peer did not answer a ping", metadata: ["user": "\(connection.user.id)"])
            pinger?.cancel()
            context.close(promise: nil)
            return
        }
        heardSincePing = false
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(bytes: Self.ping)), promise: nil)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable, waitingForWritability {
            waitingForWritability = false
            drain()
        }
        context.fireChannelWritabilityChanged()
    }

    private func drain() {
        guard !done, let context else { return }
        if !context.channel.isWritable, connection.closeCode == nil {
            waitingForWritability = true
            return
        }
        let batch = connection.take()
        for frame in batch.frames {
            context.write(wrapOutboundOut(frame.wire), promise: nil)
        }
        guard let close = batch.close else {
            if !batch.frames.isEmpty { context.flush() }
            if let wake { connection.whenReady(wake) }
            return
        }
        done = true
        wake = nil
        if close != .slowConsumer {
            var payload = ChatSocket.closePayload(close)
            var frame = ByteBuffer()
            frame.writeInteger(0x88 as UInt8)  // FIN, close
            frame.writeInteger(UInt8(payload.readableBytes))
            frame.writeBuffer(&payload)
            context.write(wrapOutboundOut(frame), promise: closeWritten)
        } else {
            closeWritten.succeed()
        }
        context.flush()
        let channel = context.channel
        context.eventLoop.scheduleTask(in: closeTimeout) { channel.close(promise: nil) }
    }

    /// The channel went away before the close: nothing more can be written.
    private func finish() {
        guard !done else { return }
        done = true
        wake = nil
        closeWritten.succeed()
    }
}

/// What the reader and the shutdown handler of one socket share.
private final class SocketState: Sendable {
    private struct Value {
        var busy = false
        var stopping = false
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
}
