import SQLKit
import Storage

/// Storage of posts, their tags, attachments and likes. Every post returned carries its attachments.
public protocol PostRepository: Sendable {
    /// Stores the post with its tags and attachments and returns it as stored.
    func insert(_ post: NewPost, on db: any SQLDatabase) async throws -> PostRecord
    /// The post, with `likedByMe` filled in when `viewerID` is given.
    func find(id: Int64, viewerID: Int64?, on db: any SQLDatabase) async throws -> PostRecord?
    /// Adds `views[id]` to the view count of each post (posts since deleted are skipped); returns
    /// the new counts.
    func addViews(_ views: [Int64: Int], on db: any SQLDatabase) async throws -> [Int64: Int]
    /// The author of post `id`, or nil when there is no such post.
    func authorID(of id: Int64, on db: any SQLDatabase) async throws -> Int64?
    /// Posts matching `filter`, newest first, with ids below `before`.
    func list(_ filter: PostFilter, before: Int64?, limit: Int, viewerID: Int64?, on db: any SQLDatabase) async throws -> [PostRecord]
    /// Applies the present fields of `changes`; `attachments` replaces the whole list.
    func update(id: Int64, changes: PostChanges, at: Timestamp, on db: any SQLDatabase) async throws
    func delete(id: Int64, on db: any SQLDatabase) async throws
    /// Adds a like; returns false when `userID` already liked it. The count stays exact.
    func like(postID: Int64, userID: Int64, at: Timestamp, on db: any SQLDatabase) async throws -> Bool
    /// Removes a like; returns false when there was none.
    func unlike(postID: Int64, userID: Int64, on db: any SQLDatabase) async throws -> Bool
    func likeCount(of postID: Int64, on db: any SQLDatabase) async throws -> Int
    func isLiked(postID: Int64, by userID: Int64, on db: any SQLDatabase) async throws -> Bool
    /// Up to `limit` other posts sharing tags with `id`, by Jaccard similarity of tag sets, ties newest first.
    func related(to id: Int64, limit: Int, viewerID: Int64?, on db: any SQLDatabase) async throws -> [PostRecord]
}

/// The part of post search that differs between engines: how `text` is matched literally.
public protocol PostTextSearch: Sendable {
    /// A predicate over `posts p` true when `text` occurs in the title or body; exact even for
    /// posts the index has not caught up with yet.
    func predicate(matching text: String) -> SQLQueryString
}

/// A search index that the app fills in batches after posts are written (SQLite's FTS5), rather
/// than one the database keeps current at every write (PostgreSQL's trigram indexes).
public protocol BatchedTextIndex: PostTextSearch {
    /// Adds up to `limit` posts written since the last call to the index; returns how many.
    func indexNewPosts(limit: Int, on db: any SQLDatabase) async throws -> Int
}
