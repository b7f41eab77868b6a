import Realtime
import SQLKit
import Storage

/// `RoomRepository` over SQLKit; the SQL is the same on every engine. A room's `last_seq` is its
/// sequence: taking a seq is one `UPDATE … RETURNING`, which also locks the room's row until the
/// message's transaction ends, so seqs are handed out in commit order without gaps.
struct SQLRoomRepository: RoomRepository {
    private static func roomColumns(viewerID: Int64) -> SQLQueryString {
        """
        r.id, r.name, r.topic, r.visibility, r.owner_id, r.last_seq, r.created_at,
        (SELECT COUNT(*) FROM room_members c WHERE c.room_id = r.id) AS member_count,
        EXISTS (SELECT 1 FROM room_members v WHERE v.room_id = r.id AND v.user_id = \(bind: viewerID)) AS is_member
        """
    }

    private static let messageColumns: SQLQueryString = """
        m.id, m.room_id, m.seq, m.sender_id, u.nickname AS sender_nickname, m.body, m.client_msg_id, m.sent_at
        """

    func insert(_ room: NewRoom, on db: any SQLDatabase) async throws -> Int64 {
        let row = try await db.raw("""
            INSERT INTO rooms (name, topic, visibility, owner_id, created_at)
            VALUES (\(bind: room.name), \(bind: room.topic), \(bind: room.visibility.rawValue), \(bind: room.ownerID),
                    \(bind: room.createdAt.milliseconds))
            RETURNING id
            """).first()
        guard let row else { throw StorageInvariant("INSERT … RETURNING gave no row") }
        return try row.decode(column: "id", as: Int64.self)
    }

    func find(id: Int64, viewerID: Int64, on db: any SQLDatabase) async throws -> RoomRecord? {
        try await db.raw("SELECT \(Self.roomColumns(viewerID: viewerID)) FROM rooms r WHERE r.id = \(bind: id)")
            .first().map(Self.room)
    }

    func list(visibleTo userID: Int64, before: Int64?, limit: Int, on db: any SQLDatabase) async throws -> [RoomRecord] {
        let before = before ?? Int64.max
        // Two index walks, each at most `limit` long, instead of filtering every room: the public
        // rooms by (visibility, id) and the user's own rooms by (user_id, room_id).
        return try await db.raw("""
            SELECT \(Self.roomColumns(viewerID: userID)) FROM rooms r
            WHERE r.id IN (
                SELECT id FROM (SELECT id FROM rooms WHERE visibility = 'public' AND id < \(bind: before)
                                ORDER BY id DESC LIMIT \(bind: limit)) AS public_rooms
                UNION
                SELECT room_id FROM (SELECT room_id FROM room_members WHERE user_id = \(bind: userID) AND room_id < \(bind: before)
                                     ORDER BY room_id DESC LIMIT \(bind: limit)) AS own_rooms
            )
            ORDER BY r.id DESC LIMIT \(bind: limit)
            """).all().map(Self.room)
    }

    func access(to room: Int64, for userID: Int64, on db: any SQLDatabase) async throws -> RoomAccess? {
        let row = try await db.raw("""
            SELECT r.visibility, r.owner_id,
                   EXISTS (SELECT 1 FROM room_members m WHERE m.room_id = r.id AND m.user_id = \(bind: userID)) AS is_member
            FROM rooms r WHERE r.id = \(bind: room)
            """).first()
        guard let row else { return nil }
        return RoomAccess(visibility: try Self.visibility(row), ownerID: try row.decode(column: "owner_id", as: Int64.self),
                          isMember: try row.decode(column: "is_member", as: Bool.self))
    }

    func addMember(_ userID: Int64, to room: Int64, at time: Timestamp, on db: any SQLDatabase) async throws -> Bool {
        try await db.raw("""
            INSERT INTO room_members (room_id, user_id, joined_at) VALUES (\(bind: room), \(bind: userID), \(bind: time.milliseconds))
            ON CONFLICT (room_id, user_id) DO NOTHING RETURNING room_id
            """).first() != nil
    }

    func removeMember(_ userID: Int64, from room: Int64, on db: any SQLDatabase) async throws -> Bool {
        try await db.raw("""
            DELETE FROM room_members WHERE room_id = \(bind: room) AND user_id = \(bind: userID) RETURNING room_id
            """).first() != nil
    }

    func owned(by userID: Int64, on db: any SQLDatabase) async throws -> [Int64] {
        try await db.raw("SELECT id FROM rooms WHERE owner_id = \(bind: userID)").all().map { try $0.decode(column: "id", as: Int64.self) }
    }

    func members(of room: Int64, on db: any SQLDatabase) async throws -> [ChatUser] {
        try await db.raw("""
            SELECT u.id, u.nickname FROM room_members m JOIN users u ON u.id = m.user_id
            WHERE m.room_id = \(bind: room) ORDER BY m.joined_at, m.user_id
            """).all().map { row in
            ChatUser(id: try row.decode(column: "id", as: Int64.self), nickname: try row.decode(column: "nickname", as: String.self))
        }
    }

    func message(in room: Int64, from senderID: Int64, clientMsgId: String, on db: any SQLDatabase) async throws -> ChatMessage? {
        try await db.raw("""
            SELECT \(Self.messageColumns) FROM chat_messages m JOIN users u ON u.id = m.sender_id
            WHERE m.room_id = \(bind: room) AND m.sender_id = \(bind: senderID) AND m.client_msg_id = \(bind: clientMsgId)
            """).first().map(Self.message)
    }

    func takeNextSeq(of room: Int64, on db: any SQLDatabase) async throws -> Int64? {
        try await db.raw("UPDATE rooms SET last_seq = last_seq + 1 WHERE id = \(bind: room) RETURNING last_seq")
            .first()?.decode(column: "last_seq", as: Int64.self)
    }

    func insertMessage(_ message: NewChatMessage, on db: any SQLDatabase) async throws -> ChatMessage? {
        let row = try await db.raw("""
            INSERT INTO chat_messages (room_id, seq, sender_id, body, client_msg_id, sent_at)
            VALUES (\(bind: message.room), \(bind: message.seq), \(bind: message.senderID), \(bind: message.body),
                    \(bind: message.clientMsgId), \(bind: message.sentAt.milliseconds))
            ON CONFLICT (room_id, sender_id, client_msg_id) DO NOTHING
            RETURNING id, (SELECT nickname FROM users WHERE users.id = chat_messages.sender_id) AS sender_nickname
            """).first()
        guard let row else { return nil }
        guard let nickname = try row.decode(column: "sender_nickname", as: String?.self) else {
            throw StorageInvariant("a stored chat message has no sender")
        }
        return ChatMessage(id: try row.decode(column: "id", as: Int64.self), room: message.room, seq: message.seq,
                           sender: ChatUser(id: message.senderID, nickname: nickname), body: message.body,
                           sentAt: message.sentAt, clientMsgId: message.clientMsgId)
    }

    func messages(in room: Int64, after seq: Int64, limit: Int, on db: any SQLDatabase) async throws -> [ChatMessage] {
        try await db.raw("""
            SELECT \(Self.messageColumns) FROM chat_messages m JOIN users u ON u.id = m.sender_id
            WHERE m.room_id = \(bind: room) AND m.seq > \(bind: seq)
            ORDER BY m.seq LIMIT \(bind: limit)
            """).all().map(Self.message)
    }

    func messages(in room: Int64, before seq: Int64, limit: Int, on db: any SQLDatabase) async throws -> [ChatMessage] {
        try await db.raw("""
            SELECT \(Self.messageColumns) FROM chat_messages m JOIN users u ON u.id = m.sender_id
            WHERE m.room_id = \(bind: room) AND m.seq < \(bind: seq)
            ORDER BY m.seq DESC LIMIT \(bind: limit)
            """).all().map(Self.message).reversed()
    }

    private static func visibility(_ row: any SQLRow) throws -> RoomVisibility {
        let text = try row.decode(column: "visibility", as: String.self)
        guard let visibility = RoomVisibility(rawValue: text) else { throw StorageInvariant("a room with visibility \(text)") }
        return visibility
    }

    private static func room(_ row: any SQLRow) throws -> RoomRecord {
        RoomRecord(
            id: try row.decode(column: "id", as: Int64.self),
            name: try row.decode(column: "name", as: String.self),
            topic: try row.decode(column: "topic", as: String.self),
            visibility: try visibility(row),
            ownerID: try row.decode(column: "owner_id", as: Int64.self),
            lastSeq: try row.decode(column: "last_seq", as: Int64.self),
            createdAt: Timestamp(milliseconds: try row.decode(column: "created_at", as: Int64.self)),
            memberCount: try row.decode(column: "member_count", as: Int.self),
            isMember: try row.decode(column: "is_member", as: Bool.self))
    }

    private static func message(_ row: any SQLRow) throws -> ChatMessage {
        ChatMessage(
            id: try row.decode(column: "id", as: Int64.self),
            room: try row.decode(column: "room_id", as: Int64.self),
            seq: try row.decode(column: "seq", as: Int64.self),
            sender: ChatUser(id: try row.decode(column: "sender_id", as: Int64.self),
                             nickname: try row.decode(column: "sender_nickname", as: String.self)),
            body: try row.decode(column: "body", as: String.self),
            sentAt: Timestamp(milliseconds: try row.decode(column: "sent_at", as: Int64.self)),
            clientMsgId: try row.decode(column: "client_msg_id", as: String?.self))
    }
}
