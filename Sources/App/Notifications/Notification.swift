import Storage

/// What a notification tells its user.
public enum NotificationKind: String, Codable, Sendable, CaseIterable {
    /// Someone you follow wrote a post.
    case post
    /// Someone commented on your post.
    case comment
    /// Someone liked your post.
    case like
    /// Someone followed you.
    case follow
}

/// A notification about to be stored. `dedupeKey` names the event: storing it twice for the same
/// user keeps one (a like, unliked and liked again, notifies once).
public struct NewNotification: Sendable, Equatable {
    public var userID: Int64
    public var kind: NotificationKind
    public var actorID: Int64
    public var postID: Int64?
    public var commentID: Int64?
    public var dedupeKey: String
}

/// A stored notification with what its reader sees: who acted, and on which post.
public struct NotificationRecord: Sendable, Equatable {
    public var id: Int64
    public var kind: NotificationKind
    public var actorID: Int64
    public var actorNickname: String
    public var postID: Int64?
    public var postTitle: String?
    public var commentID: Int64?
    public var createdAt: Timestamp
    public var readAt: Timestamp?
}
