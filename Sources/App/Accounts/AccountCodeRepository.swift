import SQLKit
import Storage

/// What a one-time code proves.
public enum AccountCodePurpose: String, Codable, Sendable {
    case verifyEmail = "verify-email"
    case resetPassword = "reset-password"
}

/// A live code as stored: only its keyed hash.
public struct AccountCodeRecord: Sendable, Equatable {
    public var userID: Int64
    public var purpose: AccountCodePurpose
    public var codeHash: String
    public var attempts: Int
    /// The code request (a job's idempotency key) that issued it, so a replayed request issues nothing new.
    public var requestKey: String?
    public var expiresAt: Timestamp
}

/// Storage of one-time codes: one live code per account and purpose.
public protocol AccountCodeRepository: Sendable {
    /// Stores a new code for the account and purpose, replacing any earlier one (attempts back to 0).
    func replace(_ code: AccountCodeRecord, at: Timestamp, on db: any SQLDatabase) async throws
    func find(userID: Int64, purpose: AccountCodePurpose, on db: any SQLDatabase) async throws -> AccountCodeRecord?
    /// Counts a wrong attempt and returns the attempts made so far.
    func recordWrongAttempt(userID: Int64, purpose: AccountCodePurpose, on db: any SQLDatabase) async throws -> Int
    func delete(userID: Int64, purpose: AccountCodePurpose, on db: any SQLDatabase) async throws
}
