import Storage

/// Data exports: a ZIP of a user's profile, posts and comments, built by a job.
struct CreateExports: Migration {
    let version = 6
    let name = "create_exports"
    let statements = [
        """
        CREATE TABLE exports (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            status TEXT NOT NULL CHECK (status IN ('pending', 'running', 'ready', 'failed')),
            progress INTEGER NOT NULL DEFAULT 0,
            file_name TEXT,
            size INTEGER,
            error TEXT,
            created_at INTEGER NOT NULL,
            finished_at INTEGER
        )
        """,
        "CREATE INDEX exports_user ON exports(user_id, id)",
        "CREATE INDEX exports_created ON exports(created_at)",
    ]
}
