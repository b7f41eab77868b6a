import Queue

/// Published in the transaction that creates a post: subscribers (notifications to followers,
/// counters) receive it once the post is committed, and never for a post that was rolled back.
public struct PostCreated: TopicEvent, Equatable {
    public static let topic = "post.created"
    public let postId: Int64
    public let authorId: Int64

    public init(postId: Int64, authorId: Int64) {
        self.postId = postId
        self.authorId = authorId
    }
}

/// Published in the transaction that creates an account (the password strengthening subscribes).
public struct UserSignedUp: TopicEvent, Equatable {
    public static let topic = "user.signed-up"
    public let userId: Int64

    public init(userId: Int64) {
        self.userId = userId
    }
}
