import SQLKit
import Storage

/// Storage of notifications.
public protocol NotificationRepository: Sendable {
    /// Stores `notification` unless its user already has one with the same dedupe key.
    func insert(_ notification: NewNotification, at: Timestamp, on db: any SQLDatabase) async throws
    /// Notifies up to `limit` followers of `authorID` (those whose follow id is past `afterFollowID`)
    /// of post `postID`; returns the last follow id covered, or nil when none was left.
    func notifyFollowers(of authorID: Int64, post postID: Int64, afterFollowID: Int64, limit: Int, at: Timestamp,
                         on db: any SQLDatabase) async throws -> Int64?
    /// Newest first, before the notification id `before`; only unread ones when `unreadOnly`.
    func list(userID: Int64, unreadOnly: Bool, before: Int64?, limit: Int, on db: any SQLDatabase) async throws -> [NotificationRecord]
    /// Marks the user's notifications among `ids` read (others' ids are ignored); returns how many changed.
    func markRead(userID: Int64, ids: [Int64], at: Timestamp, on db: any SQLDatabase) async throws -> Int
    func markAllRead(userID: Int64, at: Timestamp, on db: any SQLDatabase) async throws -> Int
    func unreadCount(userID: Int64, on db: any SQLDatabase) async throws -> Int
}
