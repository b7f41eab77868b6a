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

    /// A fresh code for `user`, replacing any earlier one of the same purpose, with its mail
    /// enqueued on `db` so both commit together.
    func issue(_ purpose: AccountCodePurpose, for user: UserRecord, requestKey: String?, on db: any SQLDatabase) async throws {
        let code = Self.generate()
        let now = Timestamp.now
        try await repository.replace(AccountCodeRecord(userID: user.id, purpose: purpose, codeHash: hash(code, purpose, user.id),
                                                       attempts: 0, requestKey: requestKey, expiresAt: now.adding(Self.lifetime)),
                                     at: now, on: db)
        try await queue.enqueue(SendMailJob(message: mail.message(for: purpose, code: code, to: user)), in: db)
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
