import SQLKit
import Storage

/// A stored refresh token: only its hash is kept. Tokens issued from one login share a family.
public struct RefreshTokenRecord: Sendable, Equatable {
    public var id: Int64
    public var userID: Int64
    public var family: String
    public var expiresAt: Timestamp
    /// Set once the token has been exchanged for a new pair; presenting it again is reuse.
    public var rotatedAt: Timestamp?
    public var revokedAt: Timestamp?
}

/// Storage of refresh-token families.
public protocol RefreshTokenRepository: Sendable {
    func insert(userID: Int64, family: String, tokenHash: String, createdAt: Timestamp, expiresAt: Timestamp,
                on db: any SQLDatabase) async throws
    func find(tokenHash: String, on db: any SQLDatabase) async throws -> RefreshTokenRecord?
    /// Marks the token rotated; returns false when another request rotated it first.
    func markRotated(id: Int64, at: Timestamp, on db: any SQLDatabase) async throws -> Bool
    func revoke(family: String, at: Timestamp, on db: any SQLDatabase) async throws
    func revokeAll(userID: Int64, at: Timestamp, on db: any SQLDatabase) async throws
    /// Deletes `userID`'s tokens that expired before `cutoff`, so old logins do not pile up.
    func deleteExpired(userID: Int64, before cutoff: Timestamp, on db: any SQLDatabase) async throws
}
