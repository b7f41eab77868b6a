import SQLKit

/// Literal text search on PostgreSQL: `ILIKE` over titles and bodies, served by pg_trgm's
/// trigram indexes (`posts_title_trgm`, `posts_body_trgm`), which PostgreSQL keeps current at
/// every write; so, unlike SQLite's FTS5 index, it is no `BatchedTextIndex`. Case is ignored, as
/// on SQLite.
struct PostgresPostTextSearch: PostTextSearch {
    func predicate(matching text: String) -> SQLQueryString {
        let pattern = "%" + text.replacingOccurrences(of: "\\", with: "\\\\")
            .replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "_", with: "\\_") + "%"
        return "(p.title ILIKE \(bind: pattern) ESCAPE '\\' OR p.body ILIKE \(bind: pattern) ESCAPE '\\')"
    }
}
