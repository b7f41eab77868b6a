import Realtime
import SQLKit
import Storage

/// Chat rooms: creating, listing and joining them, and their messages with each room's gap-free
/// sequence. The REST API and the WebSocket sessions (`RoomChatAccess`) both go through it, and it
/// keeps the hub in step: a stored message is published to the hub after its transaction
/// commits, a removed member stops receiving at once, and listings carry the hub's online counts.
///
/// A private room exists only for its members: to anyone else every operation on it answers
/// `notFound`, as for a room that does not exist. The owner is always a member (they cannot leave).
public struct RoomService: Sendable {
    let database: any Database
    let rooms: any RoomRepository
    let users: any UserRepository
    /// The verified-email check of `send`.
    let codes: AccountCodeService
    /// The live side of the rooms: who is connected, and the fan-out of stored messages.
    let hub: ChatHub
    /// The other instances' hubs, told of each message and removal on commit.
    let relay: any ChatRelay

    /// A room's fields as a client sent them (validated by `create`).
    public struct Draft: Sendable {
        public var name: String?
        public var topic: String?
        public var visibility: String?

        public init(name: String?, topic: String?, visibility: String?) {
            self.name = name
            self.topic = topic
            self.visibility = visibility
        }
    }

    /// A message `append` stored, or found already stored under its client id (`duplicate`).
    public typealias Appended = (message: ChatMessage, duplicate: Bool)

    /// Creates a room owned by `ownerID`, who is its first member. Throws `validation` for a name
    /// that is blank or over 80 characters (after trimming), a topic over 300, or a visibility
    /// other than `public` or `private`.
    public func create(_ draft: Draft, by ownerID: Int64) async throws -> RoomRecord {
        var problems: [FieldProblem] = []
        let name = ChatRules.name(draft.name, problems: &problems)
        let topic = ChatRules.topic(draft.topic, problems: &problems)
        let visibility = ChatRules.visibility(draft.visibility, problems: &problems)
        guard problems.isEmpty, let name, let visibility else { throw ServiceError.validation(problems) }
        let room = NewRoom(name: name, topic: topic, visibility: visibility, ownerID: ownerID, createdAt: .now)
        let rooms = self.rooms
        let id = try await database.transaction { db in
            let id = try await rooms.insert(room, on: db)
            _ = try await rooms.addMember(ownerID, to: id, at: room.createdAt, on: db)
            return id
        }
        let record = RoomRecord(id: id, name: name, topic: topic, visibility: visibility, ownerID: ownerID, lastSeq: 0,
                                createdAt: room.createdAt, memberCount: 1, isMember: true)
        return withOnlineCounts([record])[0]
    }

    /// The public rooms and `userID`'s private rooms, newest first: up to `page.limit + 1` of
    /// them (the extra one tells that another page exists).
    public func list(for userID: Int64, page: PageRequest) async throws -> [RoomRecord] {
        let rooms = self.rooms
        let records = try await database.read { db in
            try await rooms.list(visibleTo: userID, before: page.after, limit: page.limit + 1, on: db)
        }
        return withOnlineCounts(records)
    }

    /// The room as `userID` sees it; `notFound` when there is none or it is private and they are not a member.
    public func get(_ room: Int64, for userID: Int64) async throws -> RoomRecord {
        let rooms = self.rooms
        let record = try await database.read { db in try await rooms.find(id: room, viewerID: userID, on: db) }
        guard let record, record.visibility == .public || record.isMember else { throw Self.roomNotFound }
        return withOnlineCounts([record])[0]
    }

    /// Makes `userID` a member, idempotently, and returns the room as `callerID` sees it. Anyone
    /// may join a public room; only the owner adds others, to any room. Throws `notFound` for a
    /// room the caller cannot see or an unknown user, `forbidden` when a non-owner adds someone else.
    public func addMember(_ userID: Int64, to room: Int64, by callerID: Int64) async throws -> RoomRecord {
        let rooms = self.rooms, users = self.users
        let record = try await database.transaction { db -> RoomRecord in
            try await Self.authorizeMembershipChange(of: userID, in: room, by: callerID, rooms: rooms, users: users, on: db)
            _ = try await rooms.addMember(userID, to: room, at: .now, on: db)
            guard let record = try await rooms.find(id: room, viewerID: callerID, on: db) else {
                throw StorageInvariant("a room vanished inside its own transaction")
            }
            return record
        }
        return withOnlineCounts([record])[0]
    }

    /// Ends `userID`'s membership, idempotently: a member may leave; the owner may remove anyone
    /// else. Throws `notFound` for a room the caller cannot see or an unknown user, `forbidden`
    /// when a non-owner removes someone else, and `conflict(owner_cannot_leave)` for the owner
    /// leaving their own room.
    public func removeMember(_ userID: Int64, from room: Int64, by callerID: Int64) async throws {
        let rooms = self.rooms, users = self.users
        try await database.transaction { db in
            let access = try await Self.authorizeMembershipChange(of: userID, in: room, by: callerID, rooms: rooms,
                                                                  users: users, on: db)
            guard userID != access.ownerID else {
                throw ServiceError.conflict(code: "owner_cannot_leave",
                                            message: "The owner cannot leave their room; delete the account to end it.")
            }
            _ = try await rooms.removeMember(userID, from: room, on: db)
            try await relay.announce(.memberRemoved(room: room, user: userID), on: db)
        }
        hub.remove(user: userID, from: room)
    }

    /// What a WebSocket `join` needs: checks that `userID` may be in the room, makes them a member
    /// of a public room they have not joined, and returns its last stored seq and its members.
    /// Throws `notFound` for no such room or a private room they are not in.
    public func enter(_ room: Int64, as userID: Int64) async throws -> (lastSeq: Int64, members: [ChatUser]) {
        let rooms = self.rooms
        let seen = try await database.read { db -> (record: RoomRecord, members: [ChatUser])? in
            guard let record = try await rooms.find(id: room, viewerID: userID, on: db),
                  record.visibility == .public || record.isMember else { return nil }
            return (record, record.isMember ? try await rooms.members(of: room, on: db) : [])
        }
        guard let seen else { throw Self.roomNotFound }
        if seen.record.isMember { return (seen.record.lastSeq, seen.members) }
        // The write only adds the member; the list is read after it commits, off the one writer.
        let lastSeq = try await database.transaction { db in
            _ = try await rooms.addMember(userID, to: room, at: .now, on: db)
            guard let record = try await rooms.find(id: room, viewerID: userID, on: db) else {
                throw StorageInvariant("a room vanished inside its own transaction")
            }
            return record.lastSeq
        }
        return (lastSeq, try await database.read { db in try await rooms.members(of: room, on: db) })
    }

    /// The user as chat shows them, or nil when there is no such account.
    public func chatUser(_ userID: Int64) async throws -> ChatUser? {
        let users = self.users
        return try await database.read { db in
            try await users.find(id: userID, on: db).map { ChatUser(id: $0.id, nickname: $0.nickname) }
        }
    }

    /// Whether `userID` is a member of `room` (false for no such room).
    public func isMember(room: Int64, user userID: Int64) async throws -> Bool {
        try await access(to: room, for: userID)?.isMember ?? false
    }

    /// Whether `userID` may read `room`: it is public, or they are a member (false for no such room).
    public func canRead(room: Int64, user userID: Int64) async throws -> Bool {
        try await access(to: room, for: userID)?.canRead ?? false
    }

    /// The members of `room` with their current nicknames, in the order they joined. Checks no
    /// rights: ask `canRead` first.
    public func members(of room: Int64) async throws -> [ChatUser] {
        let rooms = self.rooms
        return try await database.read { db in try await rooms.members(of: room, on: db) }
    }

    /// `append` for a signed-in caller, who must have verified their email address (throws
    /// `emailNotVerified` otherwise, when the settings require it): what a WebSocket `send` calls.
    public func send(_ body: String, clientMsgId: String?, to room: Int64, by identity: Identity) async throws -> Appended {
        try await codes.requireVerifiedEmail(identity)
        return try await append(body, clientMsgId: clientMsgId, to: room, from: identity.userID)
    }

    /// Stores a message from `senderID` with the room's next seq, in one transaction, then
    /// publishes it to the hub. When the sender already stored a message in the room under
    /// `clientMsgId`, returns that one with `duplicate` true and stores nothing. Does not check the
    /// sender's email (see `send`).
    ///
    /// Throws `validation` for a body that is blank, has a NUL or is over 16,384 bytes of UTF-8,
    /// or a `clientMsgId` that is empty or over 100 characters; `notFound` for no such room or a
    /// private room the sender is not in; `denied(not_a_member)` for a public room they have not joined.
    public func append(_ body: String, clientMsgId: String?, to room: Int64, from senderID: Int64) async throws -> Appended {
        var problems: [FieldProblem] = []
        let body = ChatRules.body(body, problems: &problems)
        let clientMsgId = ChatRules.clientMsgId(clientMsgId, problems: &problems)
        guard problems.isEmpty, let body else { throw ServiceError.validation(problems) }
        let rooms = self.rooms, relay = self.relay
        let sentAt = Timestamp.now
        // One write stores it in the common case; when it stores nothing, a read tells why: no
        // such room, not a member, or a resend. If none holds any more (the sender joined
        // meanwhile), it is written again.
        for _ in 0..<Self.appendAttempts {
            if let message = try await database.autocommit({ db in
                try await rooms.appendMessage(body, clientMsgId: clientMsgId, to: room, from: senderID, at: sentAt,
                                              instance: relay.instance, on: db)
            }) {
                // Published after the commit; a repeat of a message already fanned out is dropped.
                hub.publish(message)
                return (message, false)
            }
            let refusal = try await database.read { db -> AppendRefusal? in
                guard let access = try await rooms.access(to: room, for: senderID, on: db) else { return .noRoom }
                guard access.isMember else { return access.canRead ? .notMember : .noRoom }
                if let clientMsgId, let stored = try await rooms.message(in: room, from: senderID, clientMsgId: clientMsgId, on: db) {
                    return .resent(stored)
                }
                return nil
            }
            switch refusal {
            case .resent(let message): return (message, true)
            case .notMember: throw ServiceError.denied(code: "not_a_member", message: "Join the room to send messages to it.")
            case .noRoom: throw Self.roomNotFound
            case nil: continue
            }
        }
        throw DatabaseUnavailable("the room's membership kept changing while a message was sent")
    }

    /// Writes of one message, in `append`, before the sender is asked to try again later.
    private static let appendAttempts = 3

    /// A window of the room's messages, in seq order, for a reader (`notFound` for a private room
    /// they are not in): with `after`, the first `limit` above it; with `before`, the last `limit`
    /// below it; with neither, the latest `limit`. Throws `validation` for both at once, `before`
    /// below 1, `after` below 0, or `limit` outside 1–200 (default 50).
    public func history(of room: Int64, for userID: Int64, before: Int64?, after: Int64?, limit: Int?) async throws -> [ChatMessage] {
        var problems: [FieldProblem] = []
        if before != nil, after != nil {
            problems.append(FieldProblem(field: "before", problem: "give either before or after, not both"))
        }
        if let before, before < 1 { problems.append(FieldProblem(field: "before", problem: "must be a seq of 1 or more")) }
        if let after, after < 0 { problems.append(FieldProblem(field: "after", problem: "must be a seq of 0 or more")) }
        let limit = limit ?? ChatRules.defaultHistoryLimit
        if !(1...ChatRules.maxHistoryLimit).contains(limit) {
            problems.append(FieldProblem(field: "limit", problem: "must be an integer from 1 to \(ChatRules.maxHistoryLimit)"))
        }
        if !problems.isEmpty { throw ServiceError.validation(problems) }
        let rooms = self.rooms
        return try await database.read { db in
            guard try await rooms.access(to: room, for: userID, on: db)?.canRead == true else { throw Self.roomNotFound }
            if let after { return try await rooms.messages(in: room, after: after, limit: limit, on: db) }
            return try await rooms.messages(in: room, before: before ?? Int64.max, limit: limit, on: db)
        }
    }

    /// Checks that `callerID` may add or remove `userID` in `room` and returns the caller's access.
    @discardableResult
    private static func authorizeMembershipChange(of userID: Int64, in room: Int64, by callerID: Int64, rooms: any RoomRepository,
                                                  users: any UserRepository, on db: any SQLDatabase) async throws -> RoomAccess {
        guard let access = try await rooms.access(to: room, for: callerID, on: db), access.canRead else { throw roomNotFound }
        if userID != callerID {
            guard access.ownerID == callerID else { throw ServiceError.forbidden }
            guard try await users.find(id: userID, on: db) != nil else { throw ServiceError.notFound("The user") }
        }
        return access
    }

    private func access(to room: Int64, for userID: Int64) async throws -> RoomAccess? {
        let rooms = self.rooms
        return try await database.read { db in try await rooms.access(to: room, for: userID, on: db) }
    }

    private func withOnlineCounts(_ records: [RoomRecord]) -> [RoomRecord] {
        guard !records.isEmpty else { return records }
        let online = hub.onlineCounts(records.map(\.id))
        return records.map { record in
            var record = record
            record.onlineCount = online[record.id] ?? 0
            return record
        }
    }

    private static let roomNotFound = ServiceError.notFound("The room")

    /// Why `appendMessage` stored nothing.
    private enum AppendRefusal: Sendable {
        case noRoom
        case notMember
        /// The sender already stored this message (the same `clientMsgId`).
        case resent(ChatMessage)
    }
}

/// The stored messages as the hub reads them, to catch a client up and to fill gaps.
struct RoomHistory: ChatHistory {
    let database: any Database
    let rooms: any RoomRepository

    /// The messages of `room` above `seq`, in seq order, at most `limit` of them. Checks no rights:
    /// a session joins a room through `RoomService.enter` first.
    func messages(in room: Int64, after seq: Int64, limit: Int) async throws -> [ChatMessage] {
        guard limit > 0 else { return [] }
        let rooms = self.rooms
        return try await database.read { db in try await rooms.messages(in: room, after: seq, limit: limit, on: db) }
    }
}

extension RoomService: ChatHistory {
    /// The stored messages of `room` above `seq`, as the hub reads them (`RoomHistory`).
    public func messages(in room: Int64, after seq: Int64, limit: Int) async throws -> [ChatMessage] {
        try await RoomHistory(database: database, rooms: rooms).messages(in: room, after: seq, limit: limit)
    }
}
