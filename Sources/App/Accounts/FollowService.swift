import SQLKit
import Storage
/// Following other users: idempotent follow and unfollow, and the two paged lists.
public struct FollowService: Sendable {
    let database: any Database
    let users: any UserRepository
    let follows: any FollowRepository
    /// The followed user hears of a new follower, in the follow's transaction.
    let notifications: NotificationService

    /// Follows `followeeID`; following twice is the same as once. Following yourself is invalid.
    public func follow(_ followeeID: Int64, by followerID: Int64) async throws {
        guard followeeID != followerID else { throw ServiceError.invalid("id", "you cannot follow yourself") }
        let users = self.users, follows = self.follows, notifications = self.notifications
        let notified = try await database.transaction { db -> Int64? in
            guard try await users.find(id: followeeID, on: db) != nil else { throw ServiceError.notFound("The user") }
            guard try await follows.follow(followerID: followerID, followeeID: followeeID, at: .now, on: db) else { return nil }
            return try await notifications.notify(followeeID, .follow, by: followerID, on: db)
        }
        if let notified { await notifications.pushLatest(to: [notified]) }
    }

    /// Stops following `followeeID`; unfollowing someone you do not follow changes nothing.
    public func unfollow(_ followeeID: Int64, by followerID: Int64) async throws {
        guard followeeID != followerID else { throw ServiceError.invalid("id", "you cannot follow yourself") }
        let users = self.users, follows = self.follows
        try await database.transaction { db in
            guard try await users.find(id: followeeID, on: db) != nil else { throw ServiceError.notFound("The user") }
            _ = try await follows.unfollow(followerID: followerID, followeeID: followeeID, on: db)
        }
    }

    public func followers(of userID: Int64, page: PageRequest) async throws -> [FollowEntry] {
        try await list(userID, page: page) { follows, db in
            try await follows.followers(of: userID, after: page.after, limit: page.limit + 1, on: db)
        }
    }

    public func following(of userID: Int64, page: PageRequest) async throws -> [FollowEntry] {
        try await list(userID, page: page) { follows, db in
            try await follows.following(of: userID, after: page.after, limit: page.limit + 1, on: db)
        }
    }

    private func list(_ userID: Int64, page: PageRequest,
                      fetch: @escaping @Sendable (any FollowRepository, any SQLDatabase) async throws -> [FollowEntry]) async throws -> [FollowEntry] {
        let users = self.users, follows = self.follows
        return try await database.read { db in
            guard try await users.find(id: userID, on: db) != nil else { throw ServiceError.notFound("The user") }
            return try await fetch(follows, db)
        }
    }
}
