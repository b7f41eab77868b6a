import Storage

/// Users, their refresh-token families and who follows whom.
struct CreateAccounts: Migration {
    let version = 1
    let name = "create_accounts"
    let statements = [
        """
        CREATE TABLE users (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            email TEXT NOT NULL UNIQUE,
            nickname TEXT NOT NULL,
            nickname_key TEXT NOT NULL UNIQUE,
            password_hash TEXT NOT NULL,
            bio TEXT NOT NULL DEFAULT '',
            role TEXT NOT NULL DEFAULT 'member' CHECK (role IN ('member', 'admin')),
            email_verified INTEGER NOT NULL DEFAULT 0,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
        )
        """,
        """
        CREATE TABLE refresh_tokens (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            family TEXT NOT NULL,
            token_hash TEXT NOT NULL UNIQUE,
            created_at INTEGER NOT NULL,
            expires_at INTEGER NOT NULL,
            rotated_at INTEGER,
            revoked_at INTEGER
        )
        """,
        "CREATE INDEX refresh_tokens_family ON refresh_tokens(family)",
        "CREATE INDEX refresh_tokens_user ON refresh_tokens(user_id)",
        """
        CREATE TABLE follows (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            follower_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            followee_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            created_at INTEGER NOT NULL,
            UNIQUE (follower_id, followee_id)
        )
        """,
        "CREATE INDEX follows_followee ON follows(followee_id, id)",
        "CREATE INDEX follows_follower ON follows(follower_id, id)",
    ]
}
