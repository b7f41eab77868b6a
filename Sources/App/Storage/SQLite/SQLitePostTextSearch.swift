import SQLKit

/// Literal text search on SQLite: an FTS5 trigram index, caught up in batches by
/// `SearchIndexer`, plus a `LIKE` scan over the few posts written since its last batch and for
/// queries under three characters (trigrams cannot match shorter text).
struct SQLitePostTextSearch: BatchedTextIndex {
    func predicate(matching text: String) -> SQLQueryString {
        let pattern = "%" + text.replacingOccurrences(of: "\\", with: "\\\\")
            .replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "_", with: "\\_") + "%"
        let scan: SQLQueryString = "(p.title LIKE \(bind: pattern) ESCAPE '\\' OR p.body LIKE \(bind: pattern) ESCAPE '\\')"
        guard text.unicodeScalars.count >= 3 else { return scan }
        // A quoted FTS5 string is one literal phrase: operators and punctuation inside it mean nothing.
        let phrase = "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        return """
            (p.id IN (SELECT rowid FROM posts_fts WHERE posts_fts MATCH \(bind: phrase))
             OR (p.id > (SELECT indexed_through FROM search_index_state) AND \(scan)))
            """
    }

    func indexNewPosts(limit: Int, on db: any SQLDatabase) async throws -> Int {
        // One INSERT … SELECT for the whole batch: FTS5 flushes once.
        let range = try await db.raw("""
            SELECT s.indexed_through AS start, MAX(p.id) AS through, COUNT(p.id) AS n
            FROM search_index_state s
            LEFT JOIN (SELECT id FROM posts WHERE id > (SELECT indexed_through FROM search_index_state) ORDER BY id LIMIT \(bind: limit)) p
            GROUP BY s.indexed_through
            """).first()
        guard let range, let through = try range.decode(column: "through", as: Int64?.self) else { return 0 }
        let start = try range.decode(column: "start", as: Int64.self)
        try await db.raw("""
            INSERT INTO posts_fts (rowid, title, body)
            SELECT id, title, body FROM posts WHERE id > \(bind: start) AND id <= \(bind: through)
            """).run()
        try await db.raw("UPDATE search_index_state SET indexed_through = \(bind: through)").run()
        return try range.decode(column: "n", as: Int.self)
    }
}
