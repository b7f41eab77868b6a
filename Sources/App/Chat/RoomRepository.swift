import Realtime
import SQLKit
import Storage

/// Storage of chat rooms, their members and their messages.
public protocol RoomRepository: Sendable {
    /// Stores the room (without members) and returns its id.
    func insert(_ room: NewRoom, on db: any SQLDatabase) async throws -> Int64
    /// The room as `viewerID` sees it, whatever its visibility (the service decides who may).
    func find(id: Int64, viewerID: Int64, on db: any SQLDatabase) async throws -> RoomRecord?
    /// Public rooms and the private rooms `userID` is a member of, newest first, with ids below `before`.
    func list(visibleTo userID: Int64, before: Int64?, limit: Int, on db: any SQLDatabase) async throws -> [RoomRecord]
    /// The room's visibility and owner and whether `userID` is a member; nil when there is no such room.
    func access(to room: Int64, for userID: Int64, on db: any SQLDatabase) async throws -> RoomAccess?
    /// Adds a member; returns false when `userID` already was one.
    func addMember(_ userID: Int64, to room: Int64, at: Timestamp, on db: any SQLDatabase) async throws -> Bool
    /// Removes a member; returns false when `userID` was not one.
    func removeMember(_ userID: Int64, from room: Int64, on db: any SQLDatabase) async throws -> Bool
    /// The ids of the rooms `userID` owns (deleted with their account).
    func owned(by userID: Int64, on db: any SQLDatabase) async throws -> [Int64]
    /// The members with their current nicknames, in the order they joined.
    func members(of room: Int64, on db: any SQLDatabase) async throws -> [ChatUser]
    /// The message `senderID` already stored in `room` under `clientMsgId`, if any.
    func message(in room: Int64, from senderID: Int64, clientMsgId: String, on db: any SQLDatabase) async throws -> ChatMessage?
    /// Stores a message from `senderID` with the room's next seq, in one write
    /// (`Database.autocommit`), if the sender is a member of the room and has not used
    /// `clientMsgId` there; nil otherwise, with nothing stored (ask `access` and `message` why).
    /// Where instances share the database, the write also announces the message to them
    /// (`ChatEvent.message` from `instance`).
    func appendMessage(_ body: String, clientMsgId: String?, to room: Int64, from senderID: Int64, at sentAt: Timestamp,
                       instance: String, on db: any SQLDatabase) async throws -> ChatMessage?
    /// Up to `limit` messages with a seq above `seq`, in seq order.
    func messages(in room: Int64, after seq: Int64, limit: Int, on db: any SQLDatabase) async throws -> [ChatMessage]
    /// The `limit` messages just below seq `seq`, in seq order.
    func messages(in room: Int64, before seq: Int64, limit: Int, on db: any SQLDatabase) async throws -> [ChatMessage]
}
