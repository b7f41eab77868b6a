import SQLKit
import Storage

/// `NotificationRepository` over SQLKit; the SQL is the same on every engine.
struct SQLNotificationRepository: NotificationRepository {
    func insert(_ notification: NewNotification, at time: Timestamp, on db: any SQLDatabase) async throws {
        try await db.raw("""
            INSERT INTO notifications (user_id, kind, actor_id, post_id, comment_id, dedupe_key, created_at)
            VALUES (\(bind: notification.userID), \(bind: notification.kind.rawValue), \(bind: notification.actorID),
                    \(bind: notification.postID), \(bind: notification.commentID), \(bind: notification.dedupeKey),
                    \(bind: time.milliseconds))
            ON CONFLICT (user_id, dedupe_key) DO NOTHING
            """).run()
    }

    func followerBatchEnd(of authorID: Int64, afterFollowID: Int64, limit: Int, on db: any SQLDatabase) async throws -> Int64? {
        try await db.raw("""
            SELECT MAX(id) AS last FROM (
                SELECT id FROM follows WHERE followee_id = \(bind: authorID) AND id > \(bind: afterFollowID) ORDER BY id LIMIT \(bind: limit)
            ) AS batch
            """).first()?.decode(column: "last", as: Int64?.self)
    }

    func notifyFollowers(of authorID: Int64, post postID: Int64, follows: ClosedRange<Int64>, at time: Timestamp,
                         on db: any SQLDatabase) async throws {
        try await db.raw("""
            INSERT INTO notifications (user_id, kind, actor_id, post_id, dedupe_key, created_at)
            SELECT follower_id, 'post', \(bind: authorID), \(bind: postID), \(bind: "post:\(postID)"), \(bind: time.milliseconds)
            FROM follows
            WHERE followee_id = \(bind: authorID) AND id >= \(bind: follows.lowerBound) AND id <= \(bind: follows.upperBound)
            ON CONFLICT (user_id, dedupe_key) DO NOTHING
            """).run()
    }

    func followerIDs(of authorID: Int64, follows: ClosedRange<Int64>, on db: any SQLDatabase) async throws -> [Int64] {
        try await db.raw("""
            SELECT follower_id FROM follows
            WHERE followee_id = \(bind: authorID) AND id >= \(bind: follows.lowerBound) AND id <= \(bind: follows.upperBound)
            """).all().map { try $0.decode(column: "follower_id", as: Int64.self) }
    }

    func list(userID: Int64, unreadOnly: Bool, before: Int64?, limit: Int, on db: any SQLDatabase) async throws -> [NotificationRecord] {
        let unread: SQLQueryString = unreadOnly ? " AND n.read_at IS NULL" : ""
        let position: SQLQueryString = before.map { " AND n.id < \(bind: $0)" } ?? ""
        return try await db.raw("""
            SELECT n.id, n.kind, n.actor_id, u.nickname AS actor_nickname, n.post_id, p.title AS post_title, n.comment_id,
                   n.created_at, n.read_at
            FROM notifications n
            JOIN users u ON u.id = n.actor_id
            LEFT JOIN posts p ON p.id = n.post_id
            WHERE n.user_id = \(bind: userID)\(unread)\(position)
            ORDER BY n.id DESC LIMIT \(bind: limit)
            """).all().map { row in
            NotificationRecord(
                id: try row.decode(column: "id", as: Int64.self),
                kind: NotificationKind(rawValue: try row.decode(column: "kind", as: String.self)) ?? .post,
                actorID: try row.decode(column: "actor_id", as: Int64.self),
                actorNickname: try row.decode(column: "actor_nickname", as: String.self),
                postID: try row.decode(column: "post_id", as: Int64?.self),
                postTitle: try row.decode(column: "post_title", as: String?.self),
                commentID: try row.decode(column: "comment_id", as: Int64?.self),
                createdAt: Timestamp(milliseconds: try row.decode(column: "created_at", as: Int64.self)),
                readAt: try row.decode(column: "read_at", as: Int64?.self).map(Timestamp.init(milliseconds:)))
        }
    }

    func markRead(userID: Int64, ids: [Int64], at time: Timestamp, on db: any SQLDatabase) async throws -> Int {
        guard !ids.isEmpty else { return 0 }
        return try await db.raw("""
            UPDATE notifications SET read_at = \(bind: time.milliseconds)
            WHERE user_id = \(bind: userID) AND read_at IS NULL AND id IN (\(binds: ids))
            RETURNING id
            """).all().count
    }

    func markAllRead(userID: Int64, at time: Timestamp, on db: any SQLDatabase) async throws -> Int {
        try await db.raw("""
            UPDATE notifications SET read_at = \(bind: time.milliseconds) WHERE user_id = \(bind: userID) AND read_at IS NULL
            RETURNING id
            """).all().count
    }

    func unreadCount(userID: Int64, on db: any SQLDatabase) async throws -> Int {
        try await db.raw("SELECT COUNT(*) AS n FROM notifications WHERE user_id = \(bind: userID) AND read_at IS NULL")
            .first()?.decode(column: "n", as: Int.self) ?? 0
    }
}
