import SQLKit
import Storage

/// `AccountCodeRepository` over SQLKit; the SQL is the same on every engine.
struct SQLAccountCodeRepository: AccountCodeRepository {
    func replace(_ code: AccountCodeRecord, at time: Timestamp, on db: any SQLDatabase) async throws {
        try await db.raw("""
            INSERT INTO account_codes (user_id, purpose, code_hash, attempts, request_key, created_at, expires_at)
            VALUES (\(bind: code.userID), \(bind: code.purpose.rawValue), \(bind: code.codeHash), 0, \(bind: code.requestKey),
                    \(bind: time.milliseconds), \(bind: code.expiresAt.milliseconds))
            ON CONFLICT (user_id, purpose) DO UPDATE SET
                code_hash = excluded.code_hash, attempts = 0, request_key = excluded.request_key,
                created_at = excluded.created_at, expires_at = excluded.expires_at
            """).run()
    }

    func find(userID: Int64, purpose: AccountCodePurpose, on db: any SQLDatabase) async throws -> AccountCodeRecord? {
        try await db.raw("""
            SELECT code_hash, attempts, request_key, expires_at FROM account_codes
            WHERE user_id = \(bind: userID) AND purpose = \(bind: purpose.rawValue)
            """).first().map { row in
            AccountCodeRecord(userID: userID, purpose: purpose, codeHash: try row.decode(column: "code_hash", as: String.self),
                              attempts: try row.decode(column: "attempts", as: Int.self),
                              requestKey: try row.decode(column: "request_key", as: String?.self),
                              expiresAt: Timestamp(milliseconds: try row.decode(column: "expires_at", as: Int64.self)))
        }
    }

    func recordWrongAttempt(userID: Int64, purpose: AccountCodePurpose, on db: any SQLDatabase) async throws -> Int {
        try await db.raw("""
            UPDATE account_codes SET attempts = attempts + 1
            WHERE user_id = \(bind: userID) AND purpose = \(bind: purpose.rawValue)
            RETURNING attempts
            """).first()?.decode(column: "attempts", as: Int.self) ?? 0
    }

    func delete(userID: Int64, purpose: AccountCodePurpose, on db: any SQLDatabase) async throws {
        try await db.raw("DELETE FROM account_codes WHERE user_id = \(bind: userID) AND purpose = \(bind: purpose.rawValue)").run()
    }
}
