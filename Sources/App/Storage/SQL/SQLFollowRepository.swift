import SQLKit
import Storage

/// `FollowRepository` over SQLKit; the SQL is the same on every engine.
struct SQLFollowRepository: FollowRepository {
    func follow(followerID: Int64, followeeID: Int64, at time: Timestamp, on db: any SQLDatabase) async throws -> Bool {
        let rows = try await db.raw("""
            INSERT INTO follows (follower_id, followee_id, created_at)
            VALUES (\(bind: followerID), \(bind: followeeID), \(bind: time.milliseconds))
            ON CONFLICT (follower_id, followee_id) DO NOTHING
            RETURNING id
            """).all()
        return !rows.isEmpty
    }

    func unfollow(followerID: Int64, followeeID: Int64, on db: any SQLDatabase) async throws -> Bool {
        let rows = try await db.raw("""
            DELETE FROM follows WHERE follower_id = \(bind: followerID) AND followee_id = \(bind: followeeID) RETURNING id
            """).all()
        return !rows.isEmpty
    }

    func followers(of userID: Int64, after: Int64?, limit: Int, on db: any SQLDatabase) async throws -> [FollowEntry] {
        try await db.raw("""
            SELECT f.id AS follow_id, u.id AS user_id, u.nickname FROM follows f JOIN users u ON u.id = f.follower_id
            WHERE f.followee_id = \(bind: userID) AND f.id < \(bind: after ?? Int64.max)
            ORDER BY f.id DESC LIMIT \(bind: limit)
            """).all().map(Self.entry)
    }

    func following(of userID: Int64, after: Int64?, limit: Int, on db: any SQLDatabase) async throws -> [FollowEntry] {
        try await db.raw("""
            SELECT f.id AS follow_id, u.id AS user_id, u.nickname FROM follows f JOIN users u ON u.id = f.followee_id
            WHERE f.follower_id = \(bind: userID) AND f.id < \(bind: after ?? Int64.max)
            ORDER BY f.id DESC LIMIT \(bind: limit)
            """).all().map(Self.entry)
    }

    private static func entry(_ row: any SQLRow) throws -> FollowEntry {
        FollowEntry(followID: try row.decode(column: "follow_id", as: Int64.self),
                    userID: try row.decode(column: "user_id", as: Int64.self),
                    nickname: try row.decode(column: "nickname", as: String.self))
    }
}
