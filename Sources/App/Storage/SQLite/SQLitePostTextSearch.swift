import SQLKit

/// Literal text search on SQLite: an FTS5 trigram index for three characters or more, a
/// `LIKE` scan below that (trigrams cannot match shorter text).
struct SQLitePostTextSearch: PostTextSearch {
    func predicate(matching text: String) -> SQLQueryString {
        if text.unicodeScalars.count >= 3 {
            // A quoted FTS5 string is one literal phrase: operators and punctuation inside it mean nothing.
            let phrase = "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
            return "p.id IN (SELECT rowid FROM posts_fts WHERE posts_fts MATCH \(bind: phrase))"
        }
        let pattern = "%" + text.replacingOccurrences(of: "\\", with: "\\\\")
            .replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "_", with: "\\_") + "%"
        return "(p.title LIKE \(bind: pattern) ESCAPE '\\' OR p.body LIKE \(bind: pattern) ESCAPE '\\')"
    }
}
