import SQLKit
import Storage

/// Storage of accounts.
public protocol UserRepository: Sendable {
    /// Stores `user` and returns it with its id. The caller checks uniqueness first, in the same transaction.
    func insert(_ user: NewUser, on db: any SQLDatabase) async throws -> UserRecord
    func find(id: Int64, on db: any SQLDatabase) async throws -> UserRecord?
    func find(email: String, on db: any SQLDatabase) async throws -> UserRecord?
    /// Who holds `email` (when given) and who holds the nickname of `nicknameKey`, in one query.
    func holders(email: String?, nicknameKey: String, on db: any SQLDatabase) async throws -> AccountHolders
    func counts(of id: Int64, on db: any SQLDatabase) async throws -> ProfileCounts
    func update(id: Int64, nickname: String, bio: String, at: Timestamp, on db: any SQLDatabase) async throws
    func updatePasswordHash(id: Int64, hash: String, at: Timestamp, on db: any SQLDatabase) async throws
    /// Replaces the password hash only if it is still `expected`; false when it changed meanwhile.
    func replacePasswordHash(id: Int64, expected: String, with hash: String, on db: any SQLDatabase) async throws -> Bool
    func setRole(id: Int64, role: Role, on db: any SQLDatabase) async throws
    func setEmailVerified(id: Int64, at: Timestamp, on db: any SQLDatabase) async throws
    /// Deletes the account with everything it owns, keeping the counters of other users' posts exact.
    func delete(id: Int64, on db: any SQLDatabase) async throws
    func count(on db: any SQLDatabase) async throws -> Int
}

/// The accounts holding an email address and a nickname (see `UserRepository.holders`).
public struct AccountHolders: Sendable, Equatable {
    public var email: Int64?
    public var nickname: Int64?
}

/// The case-insensitive form of a nickname that uniqueness is checked on (Unicode-aware, unlike SQL's `NOCASE`).
func nicknameKey(_ nickname: String) -> String {
    nickname.precomposedStringWithCanonicalMapping.lowercased()
}
