import Realtime
import SQLKit
import Storage

/// `RoomRepository` over SQLKit; the SQL is the same on every engine but for storing a message.
/// A room's `last_seq` is its sequence: taking a seq is an `UPDATE`, which also locks the room's
/// row until the message commits, so seqs are handed out in commit order without gaps.
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

    func appendMessage(_ body: String, clientMsgId: String?, to room: Int64, from senderID: Int64, at sentAt: Timestamp,
                       instance: String, on db: any SQLDatabase) async throws -> ChatMessage? {
        // The next seq, taken only if the sender is a member and has not used `clientMsgId` here
        // (a NULL id matches no message). The UPDATE locks the room's row until the commit.
        let takeSeq: SQLQueryString = """
            UPDATE rooms SET last_seq = last_seq + 1
            WHERE id = \(bind: room)
              AND EXISTS (SELECT 1 FROM room_members WHERE room_id = \(bind: room) AND user_id = \(bind: senderID))
              AND NOT EXISTS (SELECT 1 FROM chat_messages WHERE room_id = \(bind: room) AND sender_id = \(bind: senderID)
                                                            AND client_msg_id = \(bind: clientMsgId))
            RETURNING last_seq
            """
        let nickname: SQLQueryString = "(SELECT nickname FROM users WHERE users.id = \(bind: senderID)) AS sender_nickname"
        let row: (any SQLRow)?
        if db.dialect.name == "postgresql" {
            // One statement, so the room's row is locked from taking the seq to the commit only,
            // with no round trip in between: sends to one room follow each other that much faster.
            // The NOTIFY commits with it. A resend racing this one breaks the unique key in the
            // INSERT: the statement rolls back whole (no seq is lost) and runs again, finding it.
            row = try await db.raw("""
                WITH next AS (\(takeSeq)), stored AS (
                    INSERT INTO chat_messages (room_id, seq, sender_id, body, client_msg_id, sent_at)
                    SELECT \(bind: room), last_seq, \(bind: senderID), \(bind: body), \(bind: clientMsgId), \(bind: sentAt.milliseconds)
                    FROM next
                    RETURNING id, seq
                )
                SELECT id, seq, \(nickname),
                       pg_notify(\(bind: PostgresChatRelay.channel),
                                 \(bind: ChatEvent.messagePayload(instance: instance, room: room)) || seq) AS announced
                FROM stored
                """).first()
        } else {
            // SQLite has no UPDATE in a WITH; its one writer runs the two statements back to back,
            // and its one instance has nobody to announce to.
            guard let seq = try await db.raw(takeSeq).first()?.decode(column: "last_seq", as: Int64.self) else { return nil }
            row = try await db.raw("""
                INSERT INTO chat_messages (room_id, seq, sender_id, body, client_msg_id, sent_at)
                VALUES (\(bind: room), \(bind: seq), \(bind: senderID), \(bind: body), \(bind: clientMsgId), \(bind: sentAt.milliseconds))
                RETURNING id, seq, \(nickname)
                """).first()
        }
        guard let row else { return nil }
        guard let nickname = try row.decode(column: "sender_nickname", as: String?.self) else {
            throw StorageInvariant("a stored chat message has no sender")
        }
        return ChatMessage(id: try row.decode(column: "id", as: Int64.self), room: room, seq: try row.decode(column: "seq", as: Int64.self),
                           sender: ChatUser(id: senderID, nickname: nickname), body: body, sentAt: sentAt, clientMsgId: clientMsgId)
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
