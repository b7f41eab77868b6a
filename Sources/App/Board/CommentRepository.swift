import SQLKit
import Storage

/// Storage of comments.
public protocol CommentRepository: Sendable {
    /// Stores the comment and counts it on its post.
    func insert(postID: Int64, authorID: Int64, body: String, at: Timestamp, on db: any SQLDatabase) async throws -> Int64
    func find(id: Int64, on db: any SQLDatabase) async throws -> CommentRecord?
    /// Comments of `postID`, oldest first, with ids above `after`.
    func list(postID: Int64, after: Int64?, limit: Int, on db: any SQLDatabase) async throws -> [CommentRecord]
    func count(authorID: Int64, on db: any SQLDatabase) async throws -> Int
    /// A user's comments on any post, oldest first, after comment id `after`.
    func list(authorID: Int64, after: Int64?, limit: Int, on db: any SQLDatabase) async throws -> [CommentRecord]
    func update(id: Int64, body: String, at: Timestamp, on db: any SQLDatabase) async throws
    /// Deletes the comment and uncounts it on its post.
    func delete(id: Int64, on db: any SQLDatabase) async throws
}
