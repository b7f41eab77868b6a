import Foundation
import Storage

/// A user as chat shows them: the id is the account's, the nickname its current one.
public struct ChatUser: Sendable, Hashable, Codable {
    public var id: Int64
    public var nickname: String

    public init(id: Int64, nickname: String) {
        self.id = id
        self.nickname = nickname
    }
}

/// A stored chat message. `seq` numbers the messages of one room 1, 2, 3…, in commit order;
/// a message is stored before anyone receives it.
public struct ChatMessage: Sendable, Hashable, Codable {
    public var id: Int64
    public var room: Int64
    public var seq: Int64
    public var sender: ChatUser
    public var body: String
    /// When it was stored, in the whole milliseconds storage keeps: REST and WebSocket show the same instant.
    public var sentAt: Timestamp
    /// The sender's own id for the message, which makes a resent `send` idempotent.
    public var clientMsgId: String?

    public init(id: Int64, room: Int64, seq: Int64, sender: ChatUser, body: String, sentAt: Timestamp, clientMsgId: String?) {
        self.id = id
        self.room = room
        self.seq = seq
        self.sender = sender
        self.body = body
        self.sentAt = sentAt
        self.clientMsgId = clientMsgId
    }
}
