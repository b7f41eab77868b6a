import Storage

/// One-time codes mailed to an account (email verification, password reset), stored only as a
/// keyed hash; one live code per account and purpose.
struct CreateAccountCodes: Migration {
    let version = 4
    let name = "create_account_codes"
    let sqlite = [
        """
        CREATE TABLE account_codes (
            user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            purpose TEXT NOT NULL,
            code_hash TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            request_key TEXT,
            created_at INTEGER NOT NULL,
            expires_at INTEGER NOT NULL,
            PRIMARY KEY (user_id, purpose)
        )
        """,
    ]

    let postgres = [
        """
        CREATE TABLE account_codes (
            user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            purpose TEXT NOT NULL,
            code_hash TEXT NOT NULL,
            attempts BIGINT NOT NULL DEFAULT 0,
            request_key TEXT,
            created_at BIGINT NOT NULL,
            expires_at BIGINT NOT NULL,
            PRIMARY KEY (user_id, purpose)
        )
        """,
    ]
}
