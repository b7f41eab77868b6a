import Storage

/// Chat rooms, their members and their messages. `rooms.last_seq` is the room's sequence: a
/// message takes `last_seq + 1` in the transaction that stores it, and `(room_id, seq)` is unique.
/// Deleting a user cascades to the rooms they own, their memberships and the messages they sent.
struct CreateChatRooms: Migration {
    let version = 8
    let name = "create_chat_rooms"
    let statements = [
        // AUTOINCREMENT, as for posts: the id of a deleted room never names another one.
        """
        CREATE TABLE rooms (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            name TEXT NOT NULL,
            topic TEXT NOT NULL DEFAULT '',
            visibility TEXT NOT NULL CHECK (visibility IN ('public', 'private')),
            owner_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            last_seq INTEGER NOT NULL DEFAULT 0,
            created_at INTEGER NOT NULL
        )
        """,
        // The public rooms of a listing, newest first; and the cascade from users.
        "CREATE INDEX rooms_visibility ON rooms(visibility, id)",
        "CREATE INDEX rooms_owner ON rooms(owner_id)",
        """
        CREATE TABLE room_members (
            room_id INTEGER NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
            user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            joined_at INTEGER NOT NULL,
            PRIMARY KEY (room_id, user_id)
        ) WITHOUT ROWID
        """,
        // A user's rooms, newest first, in a listing; also serves the cascade from users.
        "CREATE INDEX room_members_user ON room_members(user_id, room_id)",
        """
        CREATE TABLE chat_messages (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            room_id INTEGER NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
            seq INTEGER NOT NULL,
            sender_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            body TEXT NOT NULL,
            client_msg_id TEXT,
            sent_at INTEGER NOT NULL,
            UNIQUE (room_id, seq)
        )
        """,
        // A resent message (same sender, room and client id) is stored once. NULLs are distinct,
        // so messages without a client id never collide.
        "CREATE UNIQUE INDEX chat_messages_client_msg ON chat_messages(room_id, sender_id, client_msg_id)",
        "CREATE INDEX chat_messages_sender ON chat_messages(sender_id)",
    ]
}
