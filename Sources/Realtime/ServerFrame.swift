import Foundation
import NIOCore
import Storage

/// The frames the server sends, as the WebSocket protocol defines them (docs/CHAT.md). Each is
/// encoded once, then queued as the same text to every connection that receives it.
public enum ServerFrame: Sendable {
    public struct Member: Sendable, Codable, Hashable {
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

    /// The frame's JSON text.
    public func encoded() -> ByteBuffer {
        let data: Data
        do {
            switch self {
            case .joined(let room, let lastSeq, let members):
                data = try Self.encoder.encode(Joined(room: room, lastSeq: lastSeq, members: members))
            case .message(let message):
                data = try Self.encoder.encode(Message(message))
            case .ack(let room, let clientMsgId, let seq):
                data = try Self.encoder.encode(Ack(room: room, clientMsgId: clientMsgId, seq: seq))
            case .presence(let room, let joined, let left):
                data = try Self.encoder.encode(Presence(room: room, joined: joined, left: left))
            case .typing(let room, let user):
                data = try Self.encoder.encode(Typing(room: room, user: user))
            case .pong:
                return ByteBuffer(string: #"{"type":"pong"}"#)
            case .error(let code, let message, let room):
                data = try Self.encoder.encode(ErrorFrame(code: code, message: message, room: room))
            }
        } catch {
            // Only strings, integers and dates go in: encoding cannot fail.
            preconditionFailure("a server frame failed to encode: \(error)")
        }
        return ByteBuffer(bytes: data)
    }

    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return encoder
    }()

    private struct Joined: Encodable {
        let type = "joined"
        let room: Int64
        let lastSeq: Int64
        let members: [Member]
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
