import Storage

/// Comments on posts: oldest first, edited or deleted by their author or an admin.
public struct CommentService: Sendable {
    let database: any Database
    let posts: any PostRepository
    let comments: any CommentRepository
    /// Posts show their comment count, so a cached post is forgotten when its comments change.
    let postCache: PostCache
    /// Tells the other instances of each change to a post's comments, for their caches.
    let relay: any ChatRelay
    /// The post's author hears of each comment, in the comment's transaction.
    let notifications: NotificationService

    public func create(on postID: Int64, body rawBody: String?, by authorID: Int64) async throws -> CommentRecord {
        var problems: [FieldProblem] = []
        let body = BoardRules.text(rawBody, field: "body", length: BoardRules.commentLength, required: true, problems: &problems)
        guard problems.isEmpty, let body else { throw ServiceError.validation(problems) }
        let (posts, comments, notifications, relay) = (self.posts, self.comments, self.notifications, self.relay)
        let (id, notified) = try await database.transaction { db in
            guard let postAuthorID = try await posts.authorID(of: postID, on: db) else { throw ServiceError.notFound("The post") }
            let id = try await comments.insert(postID: postID, authorID: authorID, body: body, at: .now, on: db)
            try await relay.announce(.postChanged(post: postID), on: db)
            return (id, try await notifications.notify(postAuthorID, .comment, by: authorID, post: postID, comment: id, on: db))
        }
        postCache.invalidate(postID)
        if let notified { await notifications.pushLatest(to: [notified]) }
        guard let comment = try await database.read({ db in try await comments.find(id: id, on: db) }) else {
            throw ServiceError.notFound("The comment")
        }
        return comment
    }

    public func list(on postID: Int64, page: PageRequest) async throws -> [CommentRecord] {
        let posts = self.posts, comments = self.comments
        return try await database.read { db in
            guard try await posts.authorID(of: postID, on: db) != nil else { throw ServiceError.notFound("The post") }
            return try await comments.list(postID: postID, after: page.after, limit: page.limit + 1, on: db)
        }
    }

    public func update(_ id: Int64, body rawBody: String?, by identity: Identity) async throws -> CommentRecord {
        var problems: [FieldProblem] = []
        let body = BoardRules.text(rawBody, field: "body", length: BoardRules.commentLength, required: true, problems: &problems)
        guard problems.isEmpty, let body else { throw ServiceError.validation(problems) }
        let comments = self.comments
        return try await database.transaction { db in
            guard let comment = try await comments.find(id: id, on: db) else { throw ServiceError.notFound("The comment") }
            guard identity.mayModify(ownedBy: comment.authorID) else { throw ServiceError.forbidden }
            let now = Timestamp.now
            try await comments.update(id: id, body: body, at: now, on: db)
            var updated = comment
            updated.body = body
            updated.updatedAt = now
            return updated
        }
    }

    public func delete(_ id: Int64, by identity: Identity) async throws {
        let (comments, relay) = (self.comments, self.relay)
        let postID = try await database.transaction { db in
            guard let comment = try await comments.find(id: id, on: db) else { throw ServiceError.notFound("The comment") }
            guard identity.mayModify(ownedBy: comment.authorID) else { throw ServiceError.forbidden }
            try await comments.delete(id: id, on: db)
            try await relay.announce(.postChanged(post: comment.postID), on: db)
            return comment.postID
        }
        postCache.invalidate(postID)
    }
}
