import Storage

/// Notifications: a followee's new post, a comment on or a like of your post, a new follower.
/// `dedupe_key` makes each event notify a user once, however often it is replayed.
struct CreateNotifications: Migration {
    let version = 5
    let name = "create_notifications"
    let statements = [
        """
        CREATE TABLE notifications (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            kind TEXT NOT NULL CHECK (kind IN ('post', 'comment', 'like', 'follow')),
            actor_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            post_id INTEGER REFERENCES posts(id) ON DELETE CASCADE,
            comment_id INTEGER REFERENCES comments(id) ON DELETE CASCADE,
            dedupe_key TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            read_at INTEGER
        )
        """,
        "CREATE UNIQUE INDEX notifications_dedupe ON notifications(user_id, dedupe_key)",
        "CREATE INDEX notifications_user ON notifications(user_id, id)",
        "CREATE INDEX notifications_unread ON notifications(user_id, id) WHERE read_at IS NULL",
        // Deleting a user or post cascades here; these keep the cascades from scanning.
        "CREATE INDEX notifications_actor ON notifications(actor_id)",
        "CREATE INDEX notifications_post ON notifications(post_id) WHERE post_id IS NOT NULL",
        "CREATE INDEX notifications_comment ON notifications(comment_id) WHERE comment_id IS NOT NULL",
    ]
}
