import SQLKit
import Storage

/// `CommentRepository` over SQLKit; the SQL is the same on every engine.
struct SQLCommentRepository: CommentRepository {
    private static let select: SQLQueryString = """
        SELECT c.id, c.post_id, c.author_id, u.nickname AS author_nickname, c.body, c.created_at, c.updated_at
        FROM comments c JOIN users u ON u.id = c.author_id
        """

    func insert(postID: Int64, authorID: Int64, body: String, at time: Timestamp, on db: any SQLDatabase) async throws -> Int64 {
        let row = try await db.raw("""
            INSERT INTO comments (post_id, author_id, body, created_at, updated_at)
            VALUES (\(bind: postID), \(bind: authorID), \(bind: body), \(bind: time.milliseconds), \(bind: time.milliseconds))
            RETURNING id
            """).first()
        guard let id = try row?.decode(column: "id", as: Int64.self) else { throw StorageInvariant("INSERT … RETURNING gave no row") }
        try await db.raw("UPDATE posts SET comment_count = comment_count + 1 WHERE id = \(bind: postID)").run()
        return id
    }

    func find(id: Int64, on db: any SQLDatabase) async throws -> CommentRecord? {
        try await db.raw("\(Self.select) WHERE c.id = \(bind: id)").first().map(Self.record)
    }

    func list(postID: Int64, after: Int64?, limit: Int, on db: any SQLDatabase) async throws -> [CommentRecord] {
        try await db.raw("""
            \(Self.select) WHERE c.post_id = \(bind: postID) AND c.id > \(bind: after ?? 0) ORDER BY c.id ASC LIMIT \(bind: limit)
            """).all().map(Self.record)
    }

    func count(authorID: Int64, on db: any SQLDatabase) async throws -> Int {
        try await db.raw("SELECT COUNT(*) AS n FROM comments WHERE author_id = \(bind: authorID)").first()?
            .decode(column: "n", as: Int.self) ?? 0
    }

    func list(authorID: Int64, after: Int64?, limit: Int, on db: any SQLDatabase) async throws -> [CommentRecord] {
        try await db.raw("""
            \(Self.select) WHERE c.author_id = \(bind: authorID) AND c.id > \(bind: after ?? 0) ORDER BY c.id ASC LIMIT \(bind: limit)
            """).all().map(Self.record)
    }

    func update(id: Int64, body: String, at time: Timestamp, on db: any SQLDatabase) async throws {
        try await db.raw("UPDATE comments SET body = \(bind: body), updated_at = \(bind: time.milliseconds) WHERE id = \(bind: id)").run()
    }

    func delete(id: Int64, on db: any SQLDatabase) async throws {
        let deleted = try await db.raw("DELETE FROM comments WHERE id = \(bind: id) RETURNING post_id").first()
        if let postID = try deleted?.decode(column: "post_id", as: Int64.self) {
            try await db.raw("UPDATE posts SET comment_count = comment_count - 1 WHERE id = \(bind: postID)").run()
        }
    }

    private static func record(_ row: any SQLRow) throws -> CommentRecord {
        CommentRecord(
            id: try row.decode(column: "id", as: Int64.self),
            postID: try row.decode(column: "post_id", as: Int64.self),
            authorID: try row.decode(column: "author_id", as: Int64.self),
            authorNickname: try row.decode(column: "author_nickname", as: String.self),
            body: try row.decode(column: "body", as: String.self),
            createdAt: Timestamp(milliseconds: try row.decode(column: "created_at", as: Int64.self)),
            updatedAt: Timestamp(milliseconds: try row.decode(column: "updated_at", as: Int64.self))
        )
    }
}
