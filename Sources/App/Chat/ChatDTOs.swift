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
