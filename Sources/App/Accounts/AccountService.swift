import Foundation
import Queue
import Realtime
import SQLKit
import Storage

/// A signed-in session: a short-lived access token and the refresh token that renews it.
public struct Session: Sendable {
    public var accessToken: String
    public var refreshToken: String
    public var expiresIn: Int
    public var user: UserRecord
}

/// Accounts: sign-up, login with refresh-token rotation, profile and password changes, deletion.
public struct AccountService: Sendable {
    let database: any Database
    let users: any UserRepository
    let refreshTokens: any RefreshTokenRepository
    let hasher: PasswordHasher
    let accessTokens: AccessTokens
    let rateLimiter: LoginRateLimiter
    let refreshTokenLifetime: Duration
    /// Cached posts carry their author's nickname; renaming or deleting an account clears them.
    let postCache: PostCache
    /// A deleted account's chat connections close, and the rooms it owned close for everyone.
    let rooms: any RoomRepository
    let chat: ChatHub
    /// Tells the other instances' hubs of a deleted account and its rooms, on commit.
    let relay: any ChatRelay
    /// Where account events are published (in the transaction that causes them).
    let events: JobQueue
    /// Issues the verification code that a sign-up mails.
    let codeService: AccountCodeService

    /// Creates an unverified member and queues the mail with its verification code, in the same
    /// transaction. Throws `email_taken` / `nickname_taken` conflicts.
    public func signup(email rawEmail: String?, password rawPassword: String?, nickname rawNickname: String?) async throws -> UserRecord {
        var problems: [FieldProblem] = []
        let email = AccountRules.email(rawEmail, problems: &problems)
        let password = AccountRules.password(rawPassword, problems: &problems)
        let nickname = AccountRules.nickname(rawNickname, required: true, problems: &problems)
        try AccountRules.throwIfAny(problems)
        guard let email, let password, let nickname else { throw ServiceError.validation(problems) }

        // bcrypt runs later, in a job: the request stores the pending verifier (see PasswordHasher).
        // A subscriber of `UserSignedUp` strengthens it (see StrengthenPasswordJob).
        let verifier = hasher.pendingVerifier(for: password)
        let users = self.users
        let events = self.events
        let codes = codeService.codes
        // Everything that is not a database statement happens here, before the transaction.
        let code = try codes.prepare(.verifyEmail, email: email, nickname: nickname)
        let newUser = NewUser(email: email, nickname: nickname, passwordHash: verifier, createdAt: .now)
        let user = try await database.transaction { db in
            try await Self.ensureAvailable(email: email, nicknameKey: newUser.nicknameKey, exceptUserID: nil, users: users, on: db)
            let user = try await users.insert(newUser, on: db)
            try await codes.issue(code, userID: user.id, requestKey: nil, on: db)
            try await events.publish(UserSignedUp(userId: user.id), in: db)
            return user
        }
        codeService.recordRequest(.verifyEmail, email: email)
        return user
    }

    /// Checks the password and opens a new token family. Unknown email and wrong password are
    /// the same 401; repeated failures are rate-limited per email and per client address.
    public func login(email rawEmail: String?, password: String?, clientAddress: String?) async throws -> Session {
        let email = rawEmail.flatMap(AccountRules.normalizedEmail) ?? (rawEmail ?? "").lowercased()
        try rateLimiter.checkAllowed(email: email, address: clientAddress)
        let users = self.users
        let user = try await database.read { db in try await users.find(email: email, on: db) }
        guard let password, try await hasher.verify(password, against: user?.passwordHash), let user else {
            rateLimiter.recordFailure(email: email, address: clientAddress)
            throw ServiceError.unauthorized("The email or password is wrong.")
        }
        rateLimiter.recordSuccess(email: email)
        return try await openSession(for: user, family: UUID().uuidString)
    }

    /// Exchanges a refresh token for a new pair. A token presented after it was rotated is a
    /// replay: its whole family is revoked.
    public func refresh(token: String?) async throws -> Session {
        guard let token, !token.isEmpty else { throw ServiceError.invalid("refreshToken", "is required") }
        let hash = RefreshTokenSecret.hash(token)
        let refreshTokens = self.refreshTokens
        let users = self.users
        let now = Timestamp.now
        let next = RefreshTokenSecret.generate()
        let expiresAt = now.adding(refreshTokenLifetime)
        enum Outcome: Sendable { case rotated(UserRecord), reused, invalid }
        // Rotation and its successor commit together: the old token is never spent without a new one.
        let outcome = try await database.transaction { db -> Outcome in
            guard let record = try await refreshTokens.find(tokenHash: hash, on: db),
                  record.revokedAt == nil, record.expiresAt > now else { return .invalid }
            guard record.rotatedAt == nil, try await refreshTokens.markRotated(id: record.id, at: now, on: db) else {
                try await refreshTokens.revoke(family: record.family, at: now, on: db)
                return .reused
            }
            guard let user = try await users.find(id: record.userID, on: db) else { return .invalid }
            try await refreshTokens.insert(userID: user.id, family: record.family, tokenHash: RefreshTokenSecret.hash(next),
                                           createdAt: now, expiresAt: expiresAt, on: db)
            return .rotated(user)
        }
        switch outcome {
        case .rotated(let user):
            return try await session(for: user, refreshToken: next)
        case .reused:
            throw ServiceError.unauthorized("This refresh token was already used; sign in again.")
        case .invalid:
            throw ServiceError.unauthorized("The refresh token is invalid or expired.")
        }
    }

    /// Revokes the family of `token`. Unknown tokens are ignored (logging out twice is harmless).
    public func logout(token: String?) async throws {
        guard let token, !token.isEmpty else { throw ServiceError.invalid("refreshToken", "is required") }
        let hash = RefreshTokenSecret.hash(token)
        let refreshTokens = self.refreshTokens
        try await database.transaction { db in
            if let record = try await refreshTokens.find(tokenHash: hash, on: db) {
                try await refreshTokens.revoke(family: record.family, at: .now, on: db)
            }
        }
    }

    /// The account and its public counts, or `not_found`.
    public func profile(of id: Int64) async throws -> (UserRecord, ProfileCounts) {
        let users = self.users
        let found = try await database.read { db -> (UserRecord, ProfileCounts)? in
            guard let user = try await users.find(id: id, on: db) else { return nil }
            return (user, try await users.counts(of: id, on: db))
        }
        guard let found else { throw ServiceError.notFound("The user") }
        return found
    }

    /// Changes nickname and/or bio; omitted fields keep their value.
    public func updateProfile(of id: Int64, nickname rawNickname: String?, bio rawBio: String?) async throws -> UserRecord {
        var problems: [FieldProblem] = []
        let nickname = AccountRules.nickname(rawNickname, required: false, problems: &problems)
        let bio = AccountRules.bio(rawBio, problems: &problems)
        try AccountRules.throwIfAny(problems)
        let (users, relay) = (self.users, self.relay)
        let (user, renamed) = try await database.transaction { db in
            guard var user = try await users.find(id: id, on: db) else { throw ServiceError.unauthorized("The account no longer exists.") }
            if let nickname, nicknameKey(nickname) != nicknameKey(user.nickname) {
                try await Self.ensureAvailable(email: nil, nicknameKey: nicknameKey(nickname), exceptUserID: id, users: users, on: db)
            }
            let renamed = nickname != nil && nickname != user.nickname
            user.nickname = nickname ?? user.nickname
            user.bio = bio ?? user.bio
            try await users.update(id: id, nickname: user.nickname, bio: user.bio, at: .now, on: db)
            if renamed { try await relay.announce(.postChanged(post: nil), on: db) }
            return (user, renamed)
        }
        if renamed { postCache.invalidate(nil) }
        return user
    }

    /// Replaces the password after checking the current one, and signs out every session.
    public func changePassword(of id: Int64, current: String?, new rawNew: String?) async throws {
        var problems: [FieldProblem] = []
        if current == nil { problems.append(FieldProblem(field: "currentPassword", problem: "is required")) }
        let new = AccountRules.password(rawNew, field: "newPassword", problems: &problems)
        try AccountRules.throwIfAny(problems)
        guard let current, let new else { return }
        let users = self.users
        guard let user = try await database.read({ db in try await users.find(id: id, on: db) }) else {
            throw ServiceError.unauthorized("The account no longer exists.")
        }
        guard try await hasher.verify(current, against: user.passwordHash) else {
            throw ServiceError.validation([FieldProblem(field: "currentPassword", problem: "is wrong")])
        }
        let verifier = hasher.pendingVerifier(for: new)
        let refreshTokens = self.refreshTokens
        let events = self.events
        try await database.transaction { db in
            let now = Timestamp.now
            try await users.updatePasswordHash(id: id, hash: verifier, at: now, on: db)
            try await events.enqueue(StrengthenPasswordJob(userId: id), in: db)
            try await refreshTokens.revokeAll(userID: id, at: now, on: db)
        }
    }

    /// Deletes the account; its posts, comments, likes, follows, tokens, rooms and memberships go
    /// with it. Its chat connections close at once, and the rooms it owned close for everyone in them.
    public func deleteAccount(_ id: Int64) async throws {
        let (users, rooms, relay) = (self.users, self.rooms, self.relay)
        let owned = try await database.transaction { db in
            let owned = try await rooms.owned(by: id, on: db)
            try await users.delete(id: id, on: db)
            try await relay.announce(.accountDeleted(user: id), on: db)
            for room in owned { try await relay.announce(.roomClosed(room: room), on: db) }
            try await relay.announce(.postChanged(post: nil), on: db)
            return owned
        }
        postCache.invalidate(nil)
        chat.removeAccount(id)
        for room in owned { chat.closeRoom(room) }
    }

    /// Makes the account with `email` an admin; returns false when there is no such account.
    public func promote(email rawEmail: String) async throws -> Bool {
        let email = AccountRules.normalizedEmail(rawEmail) ?? rawEmail
        let users = self.users
        return try await database.transaction { db in
            guard let user = try await users.find(email: email, on: db) else { return false }
            try await users.setRole(id: user.id, role: .admin, on: db)
            return true
        }
    }

    /// Starts a new token family for `user` (a login).
    private func openSession(for user: UserRecord, family: String) async throws -> Session {
        let token = RefreshTokenSecret.generate()
        let now = Timestamp.now
        let expiresAt = now.adding(refreshTokenLifetime)
        let refreshTokens = self.refreshTokens
        try await database.transaction { db in
            try await refreshTokens.deleteExpired(userID: user.id, before: now, on: db)
            try await refreshTokens.insert(userID: user.id, family: family, tokenHash: RefreshTokenSecret.hash(token),
                                           createdAt: now, expiresAt: expiresAt, on: db)
        }
        return try await session(for: user, refreshToken: token)
    }

    private func session(for user: UserRecord, refreshToken: String) async throws -> Session {
        let access = try await accessTokens.issue(userID: user.id, role: user.role, emailVerified: user.emailVerified)
        return Session(accessToken: access, refreshToken: refreshToken,
                       expiresIn: Int(accessTokens.lifetime.components.seconds), user: user)
    }

    private static func ensureAvailable(email: String?, nicknameKey: String, exceptUserID: Int64?,
                                        users: any UserRepository, on db: any SQLDatabase) async throws {
        let holders = try await users.holders(email: email, nicknameKey: nicknameKey, on: db)
        if holders.email != nil {
            throw ServiceError.conflict(code: "email_taken", message: "An account with this email already exists.")
        }
        if let holder = holders.nickname, holder != exceptUserID {
            throw ServiceError.conflict(code: "nickname_taken", message: "This nickname is taken.")
        }
    }
}
