import SQLKit
import Storage

/// `UserRepository` over SQLKit; the SQL is the same on every engine.
struct SQLUserRepository: UserRepository {
    private static let columns = "id, email, nickname, password_hash, bio, role, email_verified, created_at"

    func insert(_ user: NewUser, on db: any SQLDatabase) async throws -> UserRecord {
        let row = try await db.raw("""
            INSERT INTO users (email, nickname, nickname_key, password_hash, bio, role, email_verified, created_at, updated_at)
            VALUES (\(bind: user.email), \(bind: user.nickname), \(bind: user.nicknameKey), \(bind: user.passwordHash),
                    '', \(bind: user.role.rawValue), \(bind: user.emailVerified), \(bind: user.createdAt.milliseconds), \(bind: user.createdAt.milliseconds))
            RETURNING id
            """).first()
        guard let row else { throw StorageInvariant("INSERT … RETURNING gave no row") }
        return UserRecord(id: try row.decode(column: "id", as: Int64.self), email: user.email, nickname: user.nickname,
                          passwordHash: user.passwordHash, bio: "", role: user.role, emailVerified: user.emailVerified,
                          createdAt: user.createdAt)
    }

    func find(id: Int64, on db: any SQLDatabase) async throws -> UserRecord? {
        try await db.raw("SELECT \(unsafeRaw: Self.columns) FROM users WHERE id = \(bind: id)").first().map(Self.record)
    }

    func find(email: String, on db: any SQLDatabase) async throws -> UserRecord? {
        try await db.raw("SELECT \(unsafeRaw: Self.columns) FROM users WHERE email = \(bind: email)").first().map(Self.record)
    }

    func holders(email: String?, nicknameKey key: String, on db: any SQLDatabase) async throws -> AccountHolders {
        // An absent email matches nothing: `email = NULL` is never true.
        let rows = try await db.raw("""
            SELECT id, email = \(bind: email) AS same_email, nickname_key = \(bind: key) AS same_nickname
            FROM users WHERE email = \(bind: email) OR nickname_key = \(bind: key)
            """).all()
        var holders = AccountHolders()
        for row in rows {
            let id = try row.decode(column: "id", as: Int64.self)
            if try row.decode(column: "same_email", as: Bool?.self) == true { holders.email = id }
            if try row.decode(column: "same_nickname", as: Bool?.self) == true { holders.nickname = id }
        }
        return holders
    }

    func counts(of id: Int64, on db: any SQLDatabase) async throws -> ProfileCounts {
        let row = try await db.raw("""
            SELECT (SELECT COUNT(*) FROM follows WHERE followee_id = \(bind: id)) AS followers,
                   (SELECT COUNT(*) FROM follows WHERE follower_id = \(bind: id)) AS following,
                   (SELECT COUNT(*) FROM posts WHERE author_id = \(bind: id)) AS posts
            """).first()
        guard let row else { return ProfileCounts(followers: 0, following: 0, posts: 0) }
        return ProfileCounts(followers: try row.decode(column: "followers", as: Int.self),
                             following: try row.decode(column: "following", as: Int.self),
                             posts: try row.decode(column: "posts", as: Int.self))
    }

    func update(id: Int64, nickname: String, bio: String, at time: Timestamp, on db: any SQLDatabase) async throws {
        try await db.raw("""
            UPDATE users SET nickname = \(bind: nickname), nickname_key = \(bind: nicknameKey(nickname)), bio = \(bind: bio),
                   updated_at = \(bind: time.milliseconds)
            WHERE id = \(bind: id)
            """).run()
    }

    func updatePasswordHash(id: Int64, hash: String, at time: Timestamp, on db: any SQLDatabase) async throws {
        try await db.raw("UPDATE users SET password_hash = \(bind: hash), updated_at = \(bind: time.milliseconds) WHERE id = \(bind: id)").run()
    }

    func replacePasswordHash(id: Int64, expected: String, with hash: String, on db: any SQLDatabase) async throws -> Bool {
        try await db.raw("""
            UPDATE users SET password_hash = \(bind: hash) WHERE id = \(bind: id) AND password_hash = \(bind: expected) RETURNING id
            """).first() != nil
    }

    func setRole(id: Int64, role: Role, on db: any SQLDatabase) async throws {
        try await db.raw("UPDATE users SET role = \(bind: role.rawValue) WHERE id = \(bind: id)").run()
    }

    func setEmailVerified(id: Int64, at time: Timestamp, on db: any SQLDatabase) async throws {
        try await db.raw("UPDATE users SET email_verified = \(bind: true), updated_at = \(bind: time.milliseconds) WHERE id = \(bind: id)").run()
    }

    func delete(id: Int64, on db: any SQLDatabase) async throws {
        // Other users' posts keep exact counters: take away this user's likes and comments first.
        try await db.raw("""
            UPDATE posts SET like_count = like_count - 1
            WHERE id IN (SELECT post_id FROM likes WHERE user_id = \(bind: id)) AND author_id <> \(bind: id)
            """).run()
        try await db.raw("""
            UPDATE posts SET comment_count = comment_count -
                (SELECT COUNT(*) FROM comments c WHERE c.post_id = posts.id AND c.author_id = \(bind: id))
            WHERE id IN (SELECT post_id FROM comments WHERE author_id = \(bind: id)) AND author_id <> \(bind: id)
            """).run()
        // Foreign keys cascade to posts, comments, likes, follows, refresh tokens, the rooms the user
        // owns (with their members and messages), their room memberships and the chat messages they sent.
        try await db.raw("DELETE FROM users WHERE id = \(bind: id)").run()
    }

    func count(on db: any SQLDatabase) async throws -> Int {
        try await db.raw("SELECT COUNT(*) AS n FROM users").first()?.decode(column: "n", as: Int.self) ?? 0
    }

    private static func record(_ row: any SQLRow) throws -> UserRecord {
        UserRecord(
            id: try row.decode(column: "id", as: Int64.self),
            email: try row.decode(column: "email", as: String.self),
            nickname: try row.decode(column: "nickname", as: String.self),
            passwordHash: try row.decode(column: "password_hash", as: String.self),
            bio: try row.decode(column: "bio", as: String.self),
            role: Role(rawValue: try row.decode(column: "role", as: String.self)) ?? .member,
            emailVerified: try row.decode(column: "email_verified", as: Bool.self),
            createdAt: Timestamp(milliseconds: try row.decode(column: "created_at", as: Int64.self))
        )
    }
}
