import SQLKit
import Storage

/// `RefreshTokenRepository` over SQLKit; the SQL is the same on every engine.
struct SQLRefreshTokenRepository: RefreshTokenRepository {
    func insert(userID: Int64, family: String, tokenHash: String, createdAt: Timestamp, expiresAt: Timestamp,
                on db: any SQLDatabase) async throws {
        try await db.raw("""
            INSERT INTO refresh_tokens (user_id, family, token_hash, created_at, expires_at)
            VALUES (\(bind: userID), \(bind: family), \(bind: tokenHash), \(bind: createdAt.milliseconds), \(bind: expiresAt.milliseconds))
            """).run()
    }

    func find(tokenHash: String, on db: any SQLDatabase) async throws -> RefreshTokenRecord? {
        guard let row = try await db.raw("""
            SELECT id, user_id, family, expires_at, rotated_at, revoked_at FROM refresh_tokens WHERE token_hash = \(bind: tokenHash)
            """).first() else { return nil }
        return RefreshTokenRecord(
            id: try row.decode(column: "id", as: Int64.self),
            userID: try row.decode(column: "user_id", as: Int64.self),
            family: try row.decode(column: "family", as: String.self),
            expiresAt: Timestamp(milliseconds: try row.decode(column: "expires_at", as: Int64.self)),
            rotatedAt: try row.decode(column: "rotated_at", as: Int64?.self).map(Timestamp.init(milliseconds:)),
            revokedAt: try row.decode(column: "revoked_at", as: Int64?.self).map(Timestamp.init(milliseconds:))
        )
    }

    func markRotated(id: Int64, at time: Timestamp, on db: any SQLDatabase) async throws -> Bool {
        let rows = try await db.raw("""
            UPDATE refresh_tokens SET rotated_at = \(bind: time.milliseconds)
            WHERE id = \(bind: id) AND rotated_at IS NULL AND revoked_at IS NULL
            RETURNING id
            """).all()
        return !rows.isEmpty
    }

    func revoke(family: String, at time: Timestamp, on db: any SQLDatabase) async throws {
        try await db.raw("""
            UPDATE refresh_tokens SET revoked_at = \(bind: time.milliseconds) WHERE family = \(bind: family) AND revoked_at IS NULL
            """).run()
    }

    func revokeAll(userID: Int64, at time: Timestamp, on db: any SQLDatabase) async throws {
        try await db.raw("""
            UPDATE refresh_tokens SET revoked_at = \(bind: time.milliseconds) WHERE user_id = \(bind: userID) AND revoked_at IS NULL
            """).run()
    }

    func deleteExpired(userID: Int64, before cutoff: Timestamp, on db: any SQLDatabase) async throws {
        try await db.raw("""
            DELETE FROM refresh_tokens WHERE user_id = \(bind: userID) AND expires_at < \(bind: cutoff.milliseconds)
            """).run()
    }
}
