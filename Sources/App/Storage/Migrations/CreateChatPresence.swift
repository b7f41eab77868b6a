import Storage

/// Who is online on which instance, for chat across instances on PostgreSQL (`PostgresChatRelay`):
/// each instance's heartbeat, and its online users per room. SQLite runs one instance, whose hub
/// holds its presence in memory: it has no such tables.
struct CreateChatPresence: Migration {
    let version = 10
    let name = "create_chat_presence"
    let sqlite: [String] = []

    let postgres = [
        "CREATE TABLE chat_instances (id TEXT PRIMARY KEY, seen_at TIMESTAMPTZ NOT NULL)",
        """
        CREATE TABLE chat_presence (
            instance TEXT NOT NULL,
            room_id BIGINT NOT NULL,
            user_id BIGINT NOT NULL,
            nickname TEXT NOT NULL,
            PRIMARY KEY (instance, room_id, user_id)
        )
        """,
    ]
}
