import Storage

/// Uploaded files (their bytes live in `<data dir>/uploads`) and the attachments of posts.
struct CreateUploads: Migration {
    let version = 7
    let name = "create_uploads"
    let statements = [
        """
        CREATE TABLE uploads (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            status TEXT NOT NULL CHECK (status IN ('processing', 'ready', 'rejected')),
            file_name TEXT NOT NULL UNIQUE,
            content_type TEXT,
            size INTEGER NOT NULL,
            sha256 TEXT,
            width INTEGER,
            height INTEGER,
            reason TEXT,
            created_at INTEGER NOT NULL,
            processed_at INTEGER
        )
        """,
        "CREATE INDEX uploads_user ON uploads(user_id, id)",
        """
        CREATE TABLE post_attachments (
            post_id INTEGER NOT NULL REFERENCES posts(id) ON DELETE CASCADE,
            upload_id INTEGER NOT NULL REFERENCES uploads(id) ON DELETE CASCADE,
            position INTEGER NOT NULL,
            PRIMARY KEY (post_id, position)
        ) WITHOUT ROWID
        """,
        // An upload appears once per post; the index also serves the cascade from uploads.
        "CREATE UNIQUE INDEX post_attachments_upload ON post_attachments(upload_id, post_id)",
    ]
}
