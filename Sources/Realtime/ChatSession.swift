import Logging

/// One client's side of the chat protocol: turns its text frames into hub and room calls and
/// answers them (`ack`, `pong`, error frames) through its connection's queue, in order with the
/// fan-out. The transport calls `handle` for one frame at a time, so a client's sends are
/// stored in the order it sent them.
public struct ChatSession: Sendable {
    public struct Limits: Sendable {
        /// The largest message body, in bytes of UTF-8; a larger one is refused with `too_large`.
        public var maxBodyBytes = 16 * 1024
        /// The token bucket every frame but `ping` draws from: a burst of `burst` frames, then
        /// `perSecond`; past it the frame is refused with `rate_limited`.
        public var burst = 40
        public var perSecond = 20.0

        public init() {}
    }

    public let connection: ChatConnection
    private let hub: ChatHub
    private let access: any ChatRoomAccess
    private let limits: Limits
    private var bucket: TokenBucket
    private let logger: Logger

    public init(connection: ChatConnection, hub: ChatHub, access: any ChatRoomAccess, limits: Limits, logger: Logger) {
        self.connection = connection
        self.hub = hub
        self.access = access
        self.limits = limits
        self.bucket = TokenBucket(capacity: limits.burst, perSecond: limits.perSecond)
        self.logger = logger
    }

    /// Handles one text frame; never throws: every problem becomes an error frame.
    public mutating func handle(text: some Collection<UInt8>) async {
        let frame: ClientFrame
        do {
            frame = try ClientFrame.parse(text)
        } catch {
            reply(.error(code: error.code, message: error.message, room: error.room))
            return
        }
        if frame != .ping, !bucket.take() {
            reply(.error(code: "rate_limited", message: "Too many frames; slow down.", room: frame.room))
            return
        }
        switch frame {
        case .ping:
            reply(.pong)
        case .join(let room, let since):
            do {
                let (lastSeq, members) = try await access.join(room: room)
                await hub.join(connection, room: room, since: since, lastSeq: lastSeq, members: members)
            } catch {
                refuse(error, room: room)
            }
        case .leave(let room):
            hub.leave(connection, room: room)
        case .typing(let room):
            if !hub.typing(connection, room: room) {
                reply(.error(code: "not_joined", message: "Join the room first.", room: room))
            }
        case .send(let room, let body, let clientMsgId):
            guard body.utf8.count <= limits.maxBodyBytes else {
                reply(.error(code: "too_large", message: "A message body is at most \(limits.maxBodyBytes) bytes.", room: room))
                return
            }
            do {
                let stored = try await access.send(body, clientMsgId: clientMsgId, to: room)
                reply(.ack(room: room, clientMsgId: clientMsgId, seq: stored.message.seq))
            } catch {
                refuse(error, room: room)
            }
        }
    }

    private func reply(_ frame: ServerFrame) {
        connection.send(frame.encoded())
    }

    private func refuse(_ error: any Error, room: Int64) {
        if let refusal = error as? ChatRefusal {
            reply(.error(code: refusal.code, message: refusal.message, room: room))
        } else {
            logger.error("chat frame failed", metadata: ["room": "\(room)", "error": "\(error)"])
            reply(.error(code: "unavailable", message: "The server could not do this now; try again.", room: room))
        }
    }
}

extension ClientFrame {
    /// The room the frame is about, if any.
    var room: Int64? {
        switch self {
        case .join(let room, _), .leave(let room), .send(let room, _, _), .typing(let room): room
        case .ping: nil
        }
    }
}
