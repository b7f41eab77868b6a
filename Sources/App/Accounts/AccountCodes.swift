import Crypto
import Foundation
import Queue
import SQLKit
import Storage

/// Six-digit one-time codes mailed to an account: issued with their mail in the caller's
/// transaction, stored only as an HMAC keyed by the server's secret, valid for ten minutes and
/// for five wrong tries.
struct AccountCodes: Sendable {
    static let lifetime: Duration = .seconds(10 * 60)
    static let maxWrongAttempts = 5

    let repository: any AccountCodeRepository
    let key: SymmetricKey
    let mail: AccountMail
    let queue: JobQueue

    /// How a presented code fared.
    enum Redemption: Equatable {
        case accepted
        /// Wrong; the code stays usable unless this was its last try.
        case wrong(codeEnded: Bool)
        case expired
        /// No live code for the account (never issued, used, or ended).
        case missing
    }

    /// A new code and its mail job, made before the transaction that issues them.
    struct Prepared: Sendable {
        let purpose: AccountCodePurpose
        let code: String
        let mailJob: NewJob
    }

    /// A fresh code for the account of `email`, with its mail composed and encoded, ready for
    /// `issue(_:userID:requestKey:on:)`. Done outside the transaction because it is CPU work.
    func prepare(_ purpose: AccountCodePurpose, email: String, nickname: String) throws -> Prepared {
        let code = Self.generate()
        let message = mail.message(for: purpose, code: code, email: email, nickname: nickname)
        return Prepared(purpose: purpose, code: code,
                        mailJob: try queue.newJob(SendMailJob(message: message), options: EnqueueOptions()))
    }

    /// Stores `prepared` for the account `userID`, replacing any earlier code of the same purpose,
    /// with its mail enqueued on `db` so both commit together.
    func issue(_ prepared: Prepared, userID: Int64, requestKey: String?, on db: any SQLDatabase) async throws {
        let now = Timestamp.now
        try await repository.replace(
            AccountCodeRecord(userID: userID, purpose: prepared.purpose, codeHash: hash(prepared.code, prepared.purpose, userID),
                              attempts: 0, requestKey: requestKey, expiresAt: now.adding(Self.lifetime)),
            at: now, on: db)
        try await queue.enqueue(prepared: prepared.mailJob, in: db)
    }

    /// A fresh code for `user`, prepared and issued on `db`.
    func issue(_ purpose: AccountCodePurpose, for user: UserRecord, requestKey: String?, on db: any SQLDatabase) async throws {
        try await issue(prepare(purpose, email: user.email, nickname: user.nickname), userID: user.id, requestKey: requestKey, on: db)
    }

    /// Checks `code` for the account; an accepted code is spent, a wrong one counts a try.
    func redeem(_ code: String, _ purpose: AccountCodePurpose, userID: Int64, on db: any SQLDatabase) async throws -> Redemption {
        guard let stored = try await repository.find(userID: userID, purpose: purpose, on: db) else { return .missing }
        guard stored.expiresAt > .now else {
            try await repository.delete(userID: userID, purpose: purpose, on: db)
            return .expired
        }
        guard SecureBytes.constantTimeEqual(hash(code, purpose, userID), stored.codeHash) else {
            let attempts = try await repository.recordWrongAttempt(userID: userID, purpose: purpose, on: db)
            let ended = attempts >= Self.maxWrongAttempts
            if ended { try await repository.delete(userID: userID, purpose: purpose, on: db) }
            return .wrong(codeEnded: ended)
        }
        try await repository.delete(userID: userID, purpose: purpose, on: db)
        return .accepted
    }

    /// True for six ASCII digits.
    static func isWellFormed(_ code: String?) -> Bool {
        guard let code else { return false }
        return code.utf8.count == 6 && code.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
    }

    private static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        let value = Int.random(in: 0..<1_000_000, using: &generator)
        return String(repeating: "0", count: 6 - String(value).count) + String(value)
    }

    private func hash(_ code: String, _ purpose: AccountCodePurpose, _ userID: Int64) -> String {
        SecureBytes.hex(HMAC<SHA256>.authenticationCode(for: Data("\(purpose.rawValue):\(userID):\(code)".utf8), using: key))
    }
}
