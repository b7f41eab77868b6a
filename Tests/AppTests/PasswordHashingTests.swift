import App
import Crypto
import Foundation
import SQLKit
import Testing

@Suite("Password hashing off the request")
struct PasswordHashingTests {
    private let hasher = PasswordHasher(cost: 4, pepper: SymmetricKey(data: Data("pepper one".utf8)), threads: 1)

    @Test("a pending verifier and its strengthened form accept the password and nothing else; neither holds it")
    func verifierForms() async throws {
        let pending = hasher.pendingVerifier(for: "correct horse")
        #expect(pending.hasPrefix("hmac$") && !pending.contains("correct horse"))
        #expect(try await hasher.verify("correct horse", against: pending))
        #expect(try await !hasher.verify("correct horsf", against: pending))
        let strong = try #require(try await hasher.strengthen(pending))
        #expect(strong.hasPrefix("hmac-bcrypt$") && !strong.contains("correct horse"))
        #expect(try await hasher.verify("correct horse", against: strong))
        #expect(try await !hasher.verify("correct horsf", against: strong))
        #expect(try await hasher.strengthen(strong) == nil)
        // Another pepper (another installation's) recognises neither form.
        let other = PasswordHasher(cost: 4, pepper: SymmetricKey(data: Data("pepper two".utf8)), threads: 1)
        #expect(try await !other.verify("correct horse", against: pending))
        #expect(try await !other.verify("correct horse", against: strong))
        // Plain bcrypt hashes (older accounts, the demo seed) still verify.
        let legacy = try await hasher.hash("correct horse")
        #expect(try await hasher.verify("correct horse", against: legacy))
        #expect(try await !hasher.verify("correct horsf", against: legacy))
        #expect(try await !hasher.verify("correct horse", against: nil))
    }

    @Test("sign-up stores a pending verifier that a job strengthens; login works before and after, and after a password change", arguments: TestEngine.allCases)
    func signupAndChange(engine: TestEngine) async throws {
        try await withAgora(on: engine) { api in
            let user = try await api.user()
            func stored() async throws -> String {
                try await api.services.database.read { db in
                    try await db.raw("SELECT password_hash FROM users WHERE id = \(bind: user.id)").first()?
                        .decode(column: "password_hash", as: String.self) ?? ""
                }
            }
            #expect(try await eventually { try await stored().hasPrefix("hmac-bcrypt$") })
            #expect(try await api.post("/api/auth/login", ["email": user.email, "password": user.password]).status == .ok)
            expectError(try await api.post("/api/auth/login", ["email": user.email, "password": "not the password"]), .unauthorized)

            let changed = try await api.request(.put, "/api/users/me/password",
                                                json: ["currentPassword": user.password, "newPassword": "a whole new secret"],
                                                token: user.accessToken)
            #expect(changed.status == .noContent)
            #expect(try await api.post("/api/auth/login", ["email": user.email, "password": "a whole new secret"]).status == .ok)
            #expect(try await eventually { try await stored().hasPrefix("hmac-bcrypt$") })
            #expect(try await api.post("/api/auth/login", ["email": user.email, "password": "a whole new secret"]).status == .ok)
            expectError(try await api.post("/api/auth/login", ["email": user.email, "password": user.password]), .unauthorized)
        }
    }
}
