import SQLKit
import Storage

/// Storage of notifications.
public protocol NotificationRepository: Sendable {
    /// Stores `notification` unless its user already has one with the same dedupe key.
    func insert(_ notification: NewNotification, at: Timestamp, on db: any SQLDatabase) async throws
    /// The follow id that ends the next batch of up to `limit` followers of `authorID` after
    /// `afterFollowID`, or nil when no follower is left.
    func followerBatchEnd(of authorID: Int64, afterFollowID: Int64, limit: Int, on db: any SQLDatabase) async throws -> Int64?
    /// Notifies the followers of `authorID` whose follow id is in `follows` of post `postID`.
    func notifyFollowers(of authorID: Int64, post postID: Int64, follows: ClosedRange<Int64>, at: Timestamp,
                         on db: any SQLDatabase) async throws
    /// The followers of `authorID` whose follow id is in `follows`.
    func followerIDs(of authorID: Int64, follows: ClosedRange<Int64>, on db: any SQLDatabase) async throws -> [Int64]
    /// Newest first, before the notification id `before`; only unread ones when `unreadOnly`.
    func list(userID: Int64, unreadOnly: Bool, before: Int64?, limit: Int, on db: any SQLDatabase) async throws -> [NotificationRecord]
    /// Marks the user's notifications among `ids` read (others' ids are ignored); returns how many changed.
    func markRead(userID: Int64, ids: [Int64], at: Timestamp, on db: any SQLDatabase) async throws -> Int
    func markAllRead(userID: Int64, at: Timestamp, on db: any SQLDatabase) async throws -> Int
    func unreadCount(userID: Int64, on db: any SQLDatabase) async throws -> Int
}
