import Storage

/// A stored post with what a reader sees of it.
public struct PostRecord: Sendable, Equatable {
    public var id: Int64
    public var authorID: Int64
    public var authorNickname: String
    public var title: String
    public var body: String
    public var category: String
    public var tags: [String]
    public var likeCount: Int
    public var commentCount: Int
    public var viewCount: Int
    public var createdAt: Timestamp
    public var updatedAt: Timestamp
    /// Whether the viewer likes it; nil when nobody is signed in.
    public var likedByMe: Bool?
    /// Ready uploads of the author shown with the post, in order.
    public var attachments: [Attachment] = []
}

/// A post about to be stored; the author always comes from the caller's token.
public struct NewPost: Sendable {
    public var authorID: Int64
    public var title: String
    public var body: String
    public var category: String
    public var tags: [String]
    public var createdAt: Timestamp
    /// Ids of ready uploads of the author, in order (checked by the service).
    public var attachments: [Int64] = []
}

/// Changes to a post; nil fields stay as they are.
public struct PostChanges: Sendable {
    public var title: String?
    public var body: String?
    public var category: String?
    public var tags: [String]?
    /// The new list of attachments, replacing the old one (checked by the service).
    public var attachments: [Int64]?
}

/// Which posts a list shows; every filter is optional and they combine with AND.
public struct PostFilter: Sendable {
    public var category: String?
    public var tag: String?
    public var authorID: Int64?
    /// Text searched for literally in titles and bodies.
    public var text: String?
}

/// A stored comment.
public struct CommentRecord: Sendable, Equatable {
    public var id: Int64
    public var postID: Int64
    public var authorID: Int64
    public var authorNickname: String
    public var body: String
    public var createdAt: Timestamp
    public var updatedAt: Timestamp
}
