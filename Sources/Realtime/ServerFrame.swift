import Foundation
import JSONWriting
import NIOCore
import Storage

/// The frames the server sends, as the WebSocket protocol defines them (docs/CHAT.md). Each is
/// encoded once (`EncodedFrame`), then queued as the same bytes to every connection that
/// receives it.
public enum ServerFrame: Sendable {
    public struct Member: Sendable, Hashable {
        public var id: Int64
        public var nickname: String
        public var online: Bool
    }

    case joined(room: Int64, lastSeq: Int64, members: [Member])
    case message(ChatMessage)
    /// A stored `send`; `clientMsgId` is the send's own, when it had one.
    case ack(room: Int64, clientMsgId: String?, seq: Int64)
    case presence(room: Int64, joined: [ChatUser], left: [ChatUser])
    case typing(room: Int64, user: ChatUser)
    case pong
    case error(code: String, message: String, room: Int64?)

    /// The frame, as JSON text in a WebSocket frame.
    public func encoded() -> EncodedFrame {
        let data: Data
        do {
            switch self {
            case .joined(let room, let lastSeq, let members):
                return EncodedFrame(text: Self.joined(room: room, lastSeq: lastSeq, members: members))
            case .message(let message):
                data = try Self.encoder.encode(Message(message))
            case .ack(let room, let clientMsgId, let seq):
                data = try Self.encoder.encode(Ack(room: room, clientMsgId: clientMsgId, seq: seq))
            case .presence(let room, let joined, let left):
                data = try Self.encoder.encode(Presence(room: room, joined: joined, left: left))
            case .typing(let room, let user):
                data = try Self.encoder.encode(Typing(room: room, user: user))
            case .pong:
                return EncodedFrame(text: #"{"type":"pong"}"#.utf8)
            case .error(let code, let message, let room):
                data = try Self.encoder.encode(ErrorFrame(code: code, message: message, room: room))
            }
        } catch {
            // Only strings, integers and dates go in: encoding cannot fail.
            preconditionFailure("a server frame failed to encode: \(error)")
        }
        return EncodedFrame(text: data)
    }

    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return encoder
    }()

    /// The `joined` frame lists every member of the room: written directly, several times
    /// faster than `JSONEncoder` for a room of thousands.
    private static func joined(room: Int64, lastSeq: Int64, members: [Member]) -> [UInt8] {
        var json = JSONWriter(capacity: 64 + members.count * 48)
        json.object { json in
            json.key("type"); json.value("joined")
            json.key("room"); json.value(room)
            json.key("lastSeq"); json.value(lastSeq)
            json.key("members")
            json.array(members) { json, member in
                json.object { json in
                    json.key("id"); json.value(member.id)
                    json.key("nickname"); json.value(member.nickname)
                    json.key("online"); json.value(member.online)
                }
            }
        }
        return json.utf8
    }

    /// A message frame: the message's own fields (as the REST history shows them) and its `type`.
    private struct Message: Encodable {
        let message: ChatMessage

        init(_ message: ChatMessage) {
            self.message = message
        }

        private enum Keys: String, CodingKey { case type }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: Keys.self)
            try container.encode("message", forKey: .type)
            try message.encode(to: encoder)
        }
    }

    private struct Ack: Encodable {
        let type = "ack"
        let room: Int64
        let clientMsgId: String?
        let seq: Int64
    }

    private struct Presence: Encodable {
        let type = "presence"
        let room: Int64
        let joined: [ChatUser]
        let left: [ChatUser]
    }

    private struct Typing: Encodable {
        let type = "typing"
        let room: Int64
        let user: ChatUser
    }

    private struct ErrorFrame: Encodable {
        let type = "error"
        let code: String
        let message: String
        let room: Int64?
    }
}

/// A frame for clients, encoded once for all of them: a whole WebSocket text frame as a server
/// sends it (final, unmasked), so the transport writes the same bytes to every socket without
/// framing them again for each.
public struct EncodedFrame: Sendable {
    /// The frame as it goes on the wire: header, then the text.
    public let wire: ByteBuffer
    private let headerLength: Int

    /// Frames `text` (UTF-8 JSON).
    public init(text: some Collection<UInt8>) {
        let length = text.count
        let header = length < 126 ? 2 : length <= Int(UInt16.max) ? 4 : 10
        var wire = ByteBuffer()
        wire.reserveCapacity(header + length)
        wire.writeInteger(0x81 as UInt8)  // FIN, text
        switch header {
        case 2:
            wire.writeInteger(UInt8(length))
        case 4:
            wire.writeInteger(126 as UInt8)
            wire.writeInteger(UInt16(length))
        default:
            wire.writeInteger(127 as UInt8)
            wire.writeInteger(UInt64(length))
        }
        wire.writeBytes(text)
        self.wire = wire
        self.headerLength = header
    }

    /// The frame's text.
    public var text: ByteBuffer {
        wire.getSlice(at: wire.readerIndex + headerLength, length: wire.readableBytes - headerLength) ?? ByteBuffer()
    }
}
