import Foundation
import Hummingbird
import Realtime
import Storage

/// A room as sent to clients; `isMember` is the caller's.
struct RoomDTO: Encodable, Sendable, ResponseEncodable {
    var id: Int64
    var name: String
    var topic: String
    var visibility: RoomVisibility
    var ownerId: Int64
    var memberCount: Int
    var onlineCount: Int
    var lastSeq: Int64
    var createdAt: Timestamp
    var isMember: Bool

    init(_ room: RoomRecord) {
        id = room.id
        name = room.name
        topic = room.topic
        visibility = room.visibility
        ownerId = room.ownerID
        memberCount = room.memberCount
        onlineCount = room.onlineCount
        lastSeq = room.lastSeq
        createdAt = room.createdAt
        isMember = room.isMember
    }
}

/// A chat message as sent to clients; `clientMsgId` is absent when the sender gave none.
struct ChatMessageDTO: Encodable, Sendable {
    var id: Int64
    var room: Int64
    var seq: Int64
    var sender: UserSummaryDTO
    var body: String
    var sentAt: Timestamp
    var clientMsgId: String?

    init(_ message: ChatMessage) {
        id = message.id
        room = message.room
        seq = message.seq
        sender = UserSummaryDTO(id: message.sender.id, nickname: message.sender.nickname)
        body = message.body
        // Rounded, not truncated: a stored millisecond read back through `Date`'s binary
        // fraction may land a hair below itself.
        sentAt = message.sentAt
        clientMsgId = message.clientMsgId
    }
}
