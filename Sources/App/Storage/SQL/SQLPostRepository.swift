import Foundation
import SQLKit
import Storage

/// `PostRepository` over SQLKit. Only text search differs between engines; it comes in as a
/// `PostTextSearch`. The `post_tags` rows that tag filters and related posts use are kept equal
/// to the `tags` column by the schema (triggers), so a post is written in one statement. Its
/// attachments are rows of `post_attachments`, read for a whole page of posts in one query.
struct SQLPostRepository: PostRepository {
    let textSearch: any PostTextSearch

    private static let columns: SQLQueryString = """
        p.id, p.author_id, u.nickname AS author_nickname, p.title, p.body, p.category, p.tags,
        p.like_count, p.comment_count, p.view_count, p.created_at, p.updated_at
        """

    func insert(_ post: NewPost, on db: any SQLDatabase) async throws -> PostRecord {
        let row = try await db.raw("""
            INSERT INTO posts (author_id, title, body, category, tags, tag_count, created_at, updated_at)
            VALUES (\(bind: post.authorID), \(bind: post.title), \(bind: post.body), \(bind: post.category),
                    \(bind: Self.encodeTags(post.tags)), \(bind: post.tags.count), \(bind: post.createdAt.milliseconds),
                    \(bind: post.createdAt.milliseconds))
            RETURNING id, (SELECT nickname FROM users WHERE users.id = posts.author_id) AS author_nickname
            """).first()
        guard let row, let nickname = try row.decode(column: "author_nickname", as: String?.self) else {
            throw StorageInvariant("INSERT … RETURNING gave no row or no author")
        }
        let record = PostRecord(id: try row.decode(column: "id", as: Int64.self), authorID: post.authorID, authorNickname: nickname, title: post.title, body: post.body,
                                category: post.category, tags: post.tags, likeCount: 0, commentCount: 0, viewCount: 0,
                                createdAt: post.createdAt, updatedAt: post.createdAt, likedByMe: nil)
        guard !post.attachments.isEmpty else { return record }
        try await replaceAttachments(of: record.id, with: post.attachments, on: db)
        return try await withAttachments([record], on: db)[0]
    }

    func find(id: Int64, viewerID: Int64?, on db: any SQLDatabase) async throws -> PostRecord? {
        let post = try await db.raw("""
            SELECT \(Self.columns)\(Self.likedByMe(viewerID)) FROM posts p JOIN users u ON u.id = p.author_id WHERE p.id = \(bind: id)
            """).first().map { try Self.record($0, viewerID: viewerID) }
        guard let post else { return nil }
        return try await withAttachments([post], on: db)[0]
    }

    func authorID(of id: Int64, on db: any SQLDatabase) async throws -> Int64? {
        try await db.raw("SELECT author_id FROM posts WHERE id = \(bind: id)").first()?.decode(column: "author_id", as: Int64.self)
    }

    func list(_ filter: PostFilter, before: Int64?, limit: Int, viewerID: Int64?, on db: any SQLDatabase) async throws -> [PostRecord] {
        var sql: SQLQueryString = """
            SELECT \(Self.columns)\(Self.likedByMe(viewerID)) FROM posts p JOIN users u ON u.id = p.author_id
            WHERE p.id < \(bind: before ?? Int64.max)
            """
        if let category = filter.category { sql += " AND p.category = \(bind: category)" }
        if let authorID = filter.authorID { sql += " AND p.author_id = \(bind: authorID)" }
        if let tag = filter.tag { sql += " AND EXISTS (SELECT 1 FROM post_tags t WHERE t.post_id = p.id AND t.tag = \(bind: tag))" }
        if let text = filter.text { sql += " AND " + textSearch.predicate(matching: text) }
        sql += " ORDER BY p.id DESC LIMIT \(bind: limit)"
        return try await withAttachments(try await db.raw(sql).all().map { try Self.record($0, viewerID: viewerID) }, on: db)
    }

    func update(id: Int64, changes: PostChanges, at time: Timestamp, on db: any SQLDatabase) async throws {
        var assignments: [SQLQueryString] = ["updated_at = \(bind: time.milliseconds)"]
        if let title = changes.title { assignments.append("title = \(bind: title)") }
        if let body = changes.body { assignments.append("body = \(bind: body)") }
        if let category = changes.category { assignments.append("category = \(bind: category)") }
        if let tags = changes.tags {
            assignments.append("tags = \(bind: Self.encodeTags(tags))")
            assignments.append("tag_count = \(bind: tags.count)")
        }
        try await db.raw("UPDATE posts SET \(assignments.joined(separator: ", ")) WHERE id = \(bind: id)").run()
        if let attachments = changes.attachments {
            try await replaceAttachments(of: id, with: attachments, on: db)
        }
    }

    func delete(id: Int64, on db: any SQLDatabase) async throws {
        try await db.raw("DELETE FROM posts WHERE id = \(bind: id)").run()
    }

    func like(postID: Int64, userID: Int64, at time: Timestamp, on db: any SQLDatabase) async throws -> Bool {
        let inserted = try await db.raw("""
            INSERT INTO likes (post_id, user_id, created_at) VALUES (\(bind: postID), \(bind: userID), \(bind: time.milliseconds))
            ON CONFLICT (post_id, user_id) DO NOTHING RETURNING post_id
            """).all()
        guard !inserted.isEmpty else { return false }
        try await db.raw("UPDATE posts SET like_count = like_count + 1 WHERE id = \(bind: postID)").run()
        return true
    }

    func unlike(postID: Int64, userID: Int64, on db: any SQLDatabase) async throws -> Bool {
        let deleted = try await db.raw("""
            DELETE FROM likes WHERE post_id = \(bind: postID) AND user_id = \(bind: userID) RETURNING post_id
            """).all()
        guard !deleted.isEmpty else { return false }
        try await db.raw("UPDATE posts SET like_count = like_count - 1 WHERE id = \(bind: postID)").run()
        return true
    }

    func addViews(_ views: [Int64: Int], on db: any SQLDatabase) async throws -> [Int64: Int] {
        // One statement per chunk, not one per post: a flush of a popular board touches thousands
        // of posts, and on PostgreSQL each statement is a round trip and a plan. Ids in order, so
        // that two instances flushing at once tend to lock shared rows in the same order.
        var committed: [Int64: Int] = [:]
        let ordered = views.sorted { $0.key < $1.key }
        for start in stride(from: 0, to: ordered.count, by: Self.viewsPerStatement) {
            let chunk = ordered[start..<min(start + Self.viewsPerStatement, ordered.count)]
            let values = SQLList(chunk.map { SQLGroupExpression([SQLBind($0.key), SQLBind($0.value)]) })
            // VALUES names its columns column1, column2 on both engines.
            let rows = try await db.raw("""
                UPDATE posts SET view_count = view_count + added.column2
                FROM (VALUES \(values)) AS added WHERE posts.id = added.column1
                RETURNING posts.id, posts.view_count
                """).all()
            for row in rows {
                committed[try row.decode(column: "id", as: Int64.self)] = try row.decode(column: "view_count", as: Int.self)
            }
        }
        return committed
    }

    /// Posts per statement of `addViews`, well under both engines' limits on bound values.
    private static let viewsPerStatement = 1000

    func likeCount(of postID: Int64, on db: any SQLDatabase) async throws -> Int {
        try await db.raw("SELECT like_count FROM posts WHERE id = \(bind: postID)").first()?.decode(column: "like_count", as: Int.self) ?? 0
    }

    func isLiked(postID: Int64, by userID: Int64, on db: any SQLDatabase) async throws -> Bool {
        try await db.raw("SELECT 1 AS liked FROM likes WHERE post_id = \(bind: postID) AND user_id = \(bind: userID)").first() != nil
    }

    func related(to id: Int64, limit: Int, viewerID: Int64?, on db: any SQLDatabase) async throws -> [PostRecord] {
        // Jaccard similarity |A ∩ B| / |A ∪ B| with |A ∪ B| = |A| + |B| - |A ∩ B|.
        let posts = try await db.raw("""
            SELECT \(Self.columns)\(Self.likedByMe(viewerID))
            FROM (SELECT o.post_id, COUNT(*) AS shared
                  FROM post_tags t JOIN post_tags o ON o.tag = t.tag AND o.post_id <> t.post_id
                  WHERE t.post_id = \(bind: id)
                  GROUP BY o.post_id) s
            JOIN posts p ON p.id = s.post_id
            JOIN posts a ON a.id = \(bind: id)
            JOIN users u ON u.id = p.author_id
            ORDER BY (s.shared * 1.0) / (a.tag_count + p.tag_count - s.shared) DESC, p.id DESC
            LIMIT \(bind: limit)
            """).all().map { try Self.record($0, viewerID: viewerID) }
        return try await withAttachments(posts, on: db)
    }

    /// `posts` with their attachments, read in one query for all of them.
    private func withAttachments(_ posts: [PostRecord], on db: any SQLDatabase) async throws -> [PostRecord] {
        guard !posts.isEmpty else { return posts }
        let rows = try await db.raw("""
            SELECT a.post_id, u.id, u.content_type, u.size, u.width, u.height
            FROM post_attachments a JOIN uploads u ON u.id = a.upload_id
            WHERE a.post_id IN (\(binds: posts.map(\.id)))
            ORDER BY a.post_id, a.position
            """).all()
        guard !rows.isEmpty else { return posts }
        var byPost: [Int64: [Attachment]] = [:]
        for row in rows {
            byPost[try row.decode(column: "post_id", as: Int64.self), default: []].append(try SQLUploadRepository.attachment(row))
        }
        return posts.map { post in
            var post = post
            post.attachments = byPost[post.id] ?? []
            return post
        }
    }

    private func replaceAttachments(of postID: Int64, with uploadIDs: [Int64], on db: any SQLDatabase) async throws {
        try await db.raw("DELETE FROM post_attachments WHERE post_id = \(bind: postID)").run()
        guard !uploadIDs.isEmpty else { return }
        let rows: [SQLQueryString] = uploadIDs.enumerated().map { position, uploadID in
            "(\(bind: postID), \(bind: uploadID), \(bind: position))"
        }
        try await db.raw("INSERT INTO post_attachments (post_id, upload_id, position) VALUES \(rows.joined(separator: ", "))").run()
    }

    private static func likedByMe(_ viewerID: Int64?) -> SQLQueryString {
        guard let viewerID else { return "" }
        return ", EXISTS (SELECT 1 FROM likes l WHERE l.post_id = p.id AND l.user_id = \(bind: viewerID)) AS liked_by_me"
    }

    private static func encodeTags(_ tags: [String]) -> String {
        String(decoding: (try? JSONEncoder().encode(tags)) ?? Data("[]".utf8), as: UTF8.self)
    }

    private static func record(_ row: any SQLRow, viewerID: Int64?) throws -> PostRecord {
        let tagsJSON = try row.decode(column: "tags", as: String.self)
        return PostRecord(
            id: try row.decode(column: "id", as: Int64.self),
            authorID: try row.decode(column: "author_id", as: Int64.self),
            authorNickname: try row.decode(column: "author_nickname", as: String.self),
            title: try row.decode(column: "title", as: String.self),
            body: try row.decode(column: "body", as: String.self),
            category: try row.decode(column: "category", as: String.self),
            tags: (try? JSONDecoder().decode([String].self, from: Data(tagsJSON.utf8))) ?? [],
            likeCount: try row.decode(column: "like_count", as: Int.self),
            commentCount: try row.decode(column: "comment_count", as: Int.self),
            viewCount: try row.decode(column: "view_count", as: Int.self),
            createdAt: Timestamp(milliseconds: try row.decode(column: "created_at", as: Int64.self)),
            updatedAt: Timestamp(milliseconds: try row.decode(column: "updated_at", as: Int64.self)),
            likedByMe: viewerID == nil ? nil : try row.decode(column: "liked_by_me", as: Bool.self)
        )
    }
}
