import Queue
import SQLKit
import Storage

/// Posts and likes: writing, reading, listing, searching and relating posts.
public struct PostService: Sendable {
    let database: any Database
    let posts: any PostRepository
    /// Where attachments are checked: ready uploads of the post's author.
    let uploads: any UploadRepository
    let rules: BoardRules
    let cache: PostCache
    /// Tells the other instances of each change to a post, so that they drop it from their cache.
    let relay: any ChatRelay
    let searchIndexer: SearchIndexer
    /// Where post events are published (in the transaction that causes them).
    let events: JobQueue
    /// The author hears of each new like, in the like's transaction.
    let notifications: NotificationService
    /// Counts the reads of `GET /api/posts/{id}`.
    let views: ViewCounter

    public struct Draft: Sendable {
        public var title: String?
        public var body: String?
        public var category: String?
        public var tags: [String]?
        /// Upload ids, in order; on an edit, the new list.
        public var attachments: [Int64]?
    }

    /// Stores a new post by `authorID` and returns it.
    public func create(_ draft: Draft, by authorID: Int64) async throws -> PostRecord {
        var problems: [FieldProblem] = []
        let title = BoardRules.text(draft.title, field: "title", length: BoardRules.titleLength, required: true, problems: &problems)
        let body = BoardRules.text(draft.body, field: "body", length: BoardRules.bodyLength, required: true, problems: &problems)
        let category = rules.category(draft.category, required: true, problems: &problems)
        let tags = BoardRules.tags(draft.tags, problems: &problems) ?? []
        let attachments = BoardRules.attachments(draft.attachments, problems: &problems) ?? []
        guard problems.isEmpty, let title, let body, let category else { throw ServiceError.validation(problems) }
        let posts = self.posts
        let uploads = self.uploads
        let events = self.events
        var post = try await database.transaction { db in
            try await UploadService.requireAttachable(attachments, by: authorID, uploads: uploads, on: db)
            let post = try await posts.insert(NewPost(authorID: authorID, title: title, body: body, category: category,
                                                      tags: tags, createdAt: .now, attachments: attachments), on: db)
            try await events.publish(PostCreated(postId: post.id, authorId: authorID), in: db)
            return post
        }
        searchIndexer.poke()
        post.likedByMe = false
        return post
    }

    /// The post, from the cache when it holds it; `likedByMe` is filled in for `viewerID`.
    public func find(_ id: Int64, viewerID: Int64?) async throws -> PostRecord {
        let posts = self.posts
        let (cached, generation) = cache.lookup(id)
        if var post = cached {
            if let viewerID {
                post.likedByMe = try await database.read { db in try await posts.isLiked(postID: id, by: viewerID, on: db) }
            }
            return post
        }
        guard var post = try await database.read({ db in try await posts.find(id: id, viewerID: viewerID, on: db) }) else {
            throw ServiceError.notFound("The post")
        }
        let likedByMe = post.likedByMe
        post.likedByMe = nil
        cache.store(post, readAt: generation)
        post.likedByMe = likedByMe
        return post
    }

    /// The post for a reader (as `find`), counting one view.
    public func view(_ id: Int64, viewerID: Int64?) async throws -> PostRecord {
        let post = try await find(id, viewerID: viewerID)
        views.record(id)
        return post
    }

    public func list(_ filter: PostFilter, page: PageRequest, viewerID: Int64?) async throws -> [PostRecord] {
        let posts = self.posts
        return try await database.read { db in
            try await posts.list(filter, before: page.after, limit: page.limit + 1, viewerID: viewerID, on: db)
        }
    }

    /// Applies `draft`'s present fields; only the author or an admin may.
    public func update(_ id: Int64, with draft: Draft, by identity: Identity) async throws -> PostRecord {
        var problems: [FieldProblem] = []
        let changes = PostChanges(
            title: BoardRules.text(draft.title, field: "title", length: BoardRules.titleLength, required: false, problems: &problems),
            body: BoardRules.text(draft.body, field: "body", length: BoardRules.bodyLength, required: false, problems: &problems),
            category: rules.category(draft.category, required: false, problems: &problems),
            tags: BoardRules.tags(draft.tags, problems: &problems),
            attachments: BoardRules.attachments(draft.attachments, problems: &problems))
        if !problems.isEmpty { throw ServiceError.validation(problems) }
        let (posts, uploads, relay) = (self.posts, self.uploads, self.relay)
        try await database.transaction { db in
            let authorID = try await Self.authorize(identity, onPost: id, posts: posts, on: db)
            if let attachments = changes.attachments {
                // An admin editing someone's post may attach only that author's uploads.
                try await UploadService.requireAttachable(attachments, by: authorID, uploads: uploads, on: db)
            }
            try await posts.update(id: id, changes: changes, at: .now, on: db)
            try await relay.announce(.postChanged(post: id), on: db)
        }
        cache.invalidate(id)
        return try await find(id, viewerID: identity.userID)
    }

    /// Deletes the post with its comments, likes and tags; only the author or an admin may.
    public func delete(_ id: Int64, by identity: Identity) async throws {
        let (posts, relay) = (self.posts, self.relay)
        try await database.transaction { db in
            try await Self.authorize(identity, onPost: id, posts: posts, on: db)
            try await posts.delete(id: id, on: db)
            try await relay.announce(.postChanged(post: id), on: db)
        }
        cache.invalidate(id)
    }

    /// Likes or unlikes the post for `userID`, idempotently; returns the state and the exact count.
    public func setLike(_ liked: Bool, post id: Int64, by userID: Int64) async throws -> (liked: Bool, likeCount: Int) {
        let (posts, notifications, relay) = (self.posts, self.notifications, self.relay)
        let (state, notified) = try await database.transaction { db in
            guard let authorID = try await posts.authorID(of: id, on: db) else { throw ServiceError.notFound("The post") }
            var notified: Int64?
            if liked {
                if try await posts.like(postID: id, userID: userID, at: .now, on: db) {
                    notified = try await notifications.notify(authorID, .like, by: userID, post: id, on: db)
                }
            } else {
                _ = try await posts.unlike(postID: id, userID: userID, on: db)
            }
            try await relay.announce(.postChanged(post: id), on: db)
            return ((liked, try await posts.likeCount(of: id, on: db)), notified)
        }
        cache.invalidate(id)
        if let notified { await notifications.pushLatest(to: [notified]) }
        return state
    }

    /// Up to five other posts that share the most tags with post `id`.
    public func related(to id: Int64, viewerID: Int64?) async throws -> [PostRecord] {
        let posts = self.posts
        return try await database.read { db in
            guard try await posts.authorID(of: id, on: db) != nil else { throw ServiceError.notFound("The post") }
            return try await posts.related(to: id, limit: 5, viewerID: viewerID, on: db)
        }
    }

    /// Checks that `identity` may change post `id` and returns the post's author.
    @discardableResult
    static func authorize(_ identity: Identity, onPost id: Int64, posts: any PostRepository, on db: any SQLDatabase) async throws -> Int64 {
        guard let authorID = try await posts.authorID(of: id, on: db) else { throw ServiceError.notFound("The post") }
        guard identity.mayModify(ownedBy: authorID) else { throw ServiceError.forbidden }
        return authorID
    }
}
