import SQLKit
import Storage

/// One user in a follower or following list, with the key the list is paged by.
public struct FollowEntry: Sendable {
    public var followID: Int64
    public var userID: Int64
    public var nickname: String
}

/// Storage of who follows whom.
public protocol FollowRepository: Sendable {
    /// Returns false when `followerID` already followed `followeeID`.
    func follow(followerID: Int64, followeeID: Int64, at: Timestamp, on db: any SQLDatabase) async throws -> Bool
    /// Returns false when there was nothing to remove.
    func unfollow(followerID: Int64, followeeID: Int64, on db: any SQLDatabase) async throws -> Bool
    /// Users following `userID`, newest follow first, after follow id `after`.
    func followers(of userID: Int64, after: Int64?, limit: Int, on db: any SQLDatabase) async throws -> [FollowEntry]
    /// Users `userID` follows, newest follow first, after follow id `after`.
    func following(of userID: Int64, after: Int64?, limit: Int, on db: any SQLDatabase) async throws -> [FollowEntry]
}
