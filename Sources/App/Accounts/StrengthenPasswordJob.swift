import Queue
import Storage

/// Replaces an account's pending password verifier with its bcrypt form (see `PasswordHasher`).
/// Running it again, or after the password changed once more, does nothing wrong: it only ever
/// replaces the exact verifier it read.
///
/// A password change or reset enqueues it; a sign-up needs no job of its own, because the
/// `strengthen-password` group subscribes to `UserSignedUp` with the same handler.
public struct StrengthenPasswordJob: Job {
    public static let name = "account.strengthen-password"
    public var userId: Int64

    public init(userId: Int64) {
        self.userId = userId
    }

    static func register(in registry: JobRegistry, database: any Database, users: any UserRepository, hasher: PasswordHasher) {
        @Sendable func strengthen(userID: Int64) async throws {
            guard let user = try await database.read({ db in try await users.find(id: userID, on: db) }),
                  let strengthened = try await hasher.strengthen(user.passwordHash) else { return }
            try await database.transaction { db in
                _ = try await users.replacePasswordHash(id: user.id, expected: user.passwordHash, with: strengthened, on: db)
            }
        }
        registry.register(StrengthenPasswordJob.self, queue: queue) { job, _ in try await strengthen(userID: job.userId) }
        registry.subscribe(UserSignedUp.self, group: "strengthen-password", queue: queue) { event, _ in
            try await strengthen(userID: event.userId)
        }
    }

    static let queue = "accounts"
}
