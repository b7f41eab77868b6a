import Storage

/// Posts with their tags, likes and comments, and the full-text index over titles and bodies.
struct CreateBoard: Migration {
    let version = 2
    let name = "create_board"
    let statements = [
        """
        CREATE TABLE posts (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            author_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            title TEXT NOT NULL,
            body TEXT NOT NULL,
            category TEXT NOT NULL,
            tags TEXT NOT NULL DEFAULT '[]',
            tag_count INTEGER NOT NULL DEFAULT 0,
            like_count INTEGER NOT NULL DEFAULT 0,
            comment_count INTEGER NOT NULL DEFAULT 0,
            view_count INTEGER NOT NULL DEFAULT 0,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
        )
        """,
        "CREATE INDEX posts_author ON posts(author_id, id)",
        "CREATE INDEX posts_category ON posts(category, id)",
        """
        CREATE TABLE post_tags (
            post_id INTEGER NOT NULL REFERENCES posts(id) ON DELETE CASCADE,
            tag TEXT NOT NULL,
            PRIMARY KEY (post_id, tag)
        ) WITHOUT ROWID
        """,
        "CREATE INDEX post_tags_tag ON post_tags(tag, post_id)",
        // post_tags mirrors the JSON `tags` column, so writing a post is one statement.
        """
        CREATE TRIGGER post_tags_insert AFTER INSERT ON posts BEGIN
            INSERT INTO post_tags (post_id, tag) SELECT new.id, value FROM json_each(new.tags);
        END
        """,
        """
        CREATE TRIGGER post_tags_update AFTER UPDATE OF tags ON posts BEGIN
            DELETE FROM post_tags WHERE post_id = old.id;
            INSERT INTO post_tags (post_id, tag) SELECT new.id, value FROM json_each(new.tags);
        END
        """,
        """
        CREATE TABLE likes (
            post_id INTEGER NOT NULL REFERENCES posts(id) ON DELETE CASCADE,
            user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            created_at INTEGER NOT NULL,
            PRIMARY KEY (post_id, user_id)
        ) WITHOUT ROWID
        """,
        "CREATE INDEX likes_user ON likes(user_id)",
        """
        CREATE TABLE comments (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            post_id INTEGER NOT NULL REFERENCES posts(id) ON DELETE CASCADE,
            author_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            body TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
        )
        """,
        "CREATE INDEX comments_post ON comments(post_id, id)",
        "CREATE INDEX comments_author ON comments(author_id)",
        // Trigram tokens let `q` match any substring literally, in any script.
        """
        CREATE VIRTUAL TABLE posts_fts USING fts5(
            title, body, content='posts', content_rowid='id', tokenize='trigram'
        )
        """,
        // New posts are indexed in batches by the search indexer (FTS5 flushes its index at
        // every statement, which cost a third of a post's insert); posts up to `indexed_through`
        // are in the index, and edits and deletions of those keep it exact.
        "CREATE TABLE search_index_state (id INTEGER PRIMARY KEY CHECK (id = 1), indexed_through INTEGER NOT NULL)",
        "INSERT INTO search_index_state (id, indexed_through) VALUES (1, 0)",
        """
        CREATE TRIGGER posts_fts_delete AFTER DELETE ON posts
        WHEN old.id <= (SELECT indexed_through FROM search_index_state) BEGIN
            INSERT INTO posts_fts(posts_fts, rowid, title, body) VALUES ('delete', old.id, old.title, old.body);
        END
        """,
        """
        CREATE TRIGGER posts_fts_update AFTER UPDATE OF title, body ON posts
        WHEN old.id <= (SELECT indexed_through FROM search_index_state) BEGIN
            INSERT INTO posts_fts(posts_fts, rowid, title, body) VALUES ('delete', old.id, old.title, old.body);
            INSERT INTO posts_fts(rowid, title, body) VALUES (new.id, new.title, new.body);
        END
        """,
    ]
}
