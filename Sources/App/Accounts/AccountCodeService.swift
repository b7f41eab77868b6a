import Foundation
import Queue
import SQLKit
import Storage

/// Email verification and password reset by mailed one-time codes, and the rule that only
/// verified accounts write.
public struct AccountCodeService: Sendable {
    let database: any Database
    let users: any UserRepository
    let refreshTokens: any RefreshTokenRepository
    let codes: AccountCodes
    let hasher: PasswordHasher
    let queue: JobQueue
    /// Code requests per email address: one a minute (a sign-up counts as one), five an hour.
    let requestsPerMinute: SlidingWindowLimiter
    let requestsPerHour: SlidingWindowLimiter
    /// Whether writes need a verified address (`AGORA_REQUIRE_VERIFIED_EMAIL`).
    let requireVerifiedEmail: Bool

    /// Marks the address verified when `code` is its live verification code. Verifying an
    /// address that is already verified succeeds again.
    public func verifyEmail(email rawEmail: String?, code: String?) async throws {
        let email = try Self.normalized(rawEmail)
        guard AccountCodes.isWellFormed(code), let code else { throw Self.invalidCode }
        let users = self.users
        let codes = self.codes
        let redemption = try await database.transaction { db -> AccountCodes.Redemption in
            guard let user = try await users.find(email: email, on: db) else { return .missing }
            if user.emailVerified { return .accepted }
            let redemption = try await codes.redeem(code, .verifyEmail, userID: user.id, on: db)
            if redemption == .accepted { try await users.setEmailVerified(id: user.id, at: .now, on: db) }
            return redemption
        }
        try Self.check(redemption)
    }

    /// Queues a new code of `purpose` for `email`; the same answer whether or not the account
    /// exists. Throws `rateLimited` past one request a minute or five an hour per address.
    public func requestCode(_ purpose: AccountCodePurpose, email rawEmail: String?) async throws {
        let email = try Self.normalized(rawEmail)
        let key = "\(purpose.rawValue):\(email)"
        if let wait = [requestsPerMinute.wait(for: key), requestsPerHour.wait(for: key)].compactMap({ $0 }).max() {
            throw ServiceError.rateLimited(retryAfterSeconds: wait)
        }
        recordRequest(purpose, email: email)
        try await queue.enqueue(AccountCodeRequestJob(email: email, purpose: purpose))
    }

    /// Counts a code sent for `email` against its request limits (a sign-up sends one).
    func recordRequest(_ purpose: AccountCodePurpose, email: String) {
        let key = "\(purpose.rawValue):\(email)"
        requestsPerMinute.record(key)
        requestsPerHour.record(key)
    }

    /// Replaces the password when `code` is the account's live reset code, and signs out every
    /// session. A reset also proves the address, so it verifies it.
    public func resetPassword(email rawEmail: String?, code: String?, newPassword: String?) async throws {
        var problems: [FieldProblem] = []
        let email = AccountRules.email(rawEmail, problems: &problems)
        let password = AccountRules.password(newPassword, field: "newPassword", problems: &problems)
        if !AccountCodes.isWellFormed(code) { problems.append(FieldProblem(field: "code", problem: "must be 6 digits")) }
        try AccountRules.throwIfAny(problems)
        guard let email, let password, let code else { throw ServiceError.validation(problems) }
        let verifier = hasher.pendingVerifier(for: password)
        let users = self.users
        let queue = self.queue
        let codes = self.codes
        let refreshTokens = self.refreshTokens
        let redemption = try await database.transaction { db -> AccountCodes.Redemption in
            guard let user = try await users.find(email: email, on: db) else { return .missing }
            let redemption = try await codes.redeem(code, .resetPassword, userID: user.id, on: db)
            guard redemption == .accepted else { return redemption }
            let now = Timestamp.now
            try await users.updatePasswordHash(id: user.id, hash: verifier, at: now, on: db)
            try await queue.enqueue(StrengthenPasswordJob(userId: user.id), in: db)
            try await refreshTokens.revokeAll(userID: user.id, at: now, on: db)
            if !user.emailVerified { try await users.setEmailVerified(id: user.id, at: now, on: db) }
            return redemption
        }
        try Self.check(redemption)
    }

    /// Throws `emailNotVerified` unless writes are open to the caller: verification is off, the
    /// token says verified, or the account was verified since the token was issued.
    public func requireVerifiedEmail(_ identity: Identity) async throws {
        guard requireVerifiedEmail, !identity.emailVerified else { return }
        let users = self.users
        let verified = try await database.read { db in try await users.find(id: identity.userID, on: db)?.emailVerified }
        guard let verified else { throw ServiceError.unauthorized("The account no longer exists.") }
        guard verified else { throw ServiceError.emailNotVerified }
    }

    /// Marks the account with `email` verified without a code (an operator's command, test set-up);
    /// false when there is no such account.
    public func markVerified(email rawEmail: String) async throws -> Bool {
        let email = AccountRules.normalizedEmail(rawEmail) ?? rawEmail
        let users = self.users
        return try await database.transaction { db in
            guard let user = try await users.find(email: email, on: db) else { return false }
            try await users.setEmailVerified(id: user.id, at: .now, on: db)
            return true
        }
    }

    /// Runs a queued code request: issues the code and its mail in one transaction, once per request.
    func fulfil(_ request: AccountCodeRequestJob, requestKey: String) async throws {
        let users = self.users
        let codes = self.codes
        try await database.transaction { db in
            guard let user = try await users.find(email: request.email, on: db) else { return }
            if request.purpose == .verifyEmail, user.emailVerified { return }
            if try await codes.repository.find(userID: user.id, purpose: request.purpose, on: db)?.requestKey == requestKey {
                return
            }
            try await codes.issue(request.purpose, for: user, requestKey: requestKey, on: db)
        }
    }

    static let invalidCode = ServiceError.rejected(code: "invalid_code", message: "The code is wrong or no longer valid.")

    private static func check(_ redemption: AccountCodes.Redemption) throws {
        switch redemption {
        case .accepted:
            return
        case .wrong(codeEnded: false), .missing:
            throw invalidCode
        case .wrong(codeEnded: true):
            throw ServiceError.rejected(code: "invalid_code", message: "The code is wrong and has now expired: request a new one.")
        case .expired:
            throw ServiceError.rejected(code: "code_expired", message: "The code has expired: request a new one.")
        }
    }

    private static func normalized(_ rawEmail: String?) throws -> String {
        guard let rawEmail, !rawEmail.isEmpty else { throw ServiceError.invalid("email", "is required") }
        guard let email = AccountRules.normalizedEmail(rawEmail) else { throw ServiceError.invalid("email", "is not an email address") }
        return email
    }
}
