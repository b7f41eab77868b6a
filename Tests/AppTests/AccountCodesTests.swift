import App
import Foundation
import HTTPTypes
import Queue
import SQLKit
import Testing

@Suite("Email verification")
struct EmailVerificationTests {
    @Test("sign-up mails a six-digit code; the code verifies the address and opens writes, even with the old token", arguments: TestEngine.allCases)
    func codeVerifies(engine: TestEngine) async throws {
        try await withAgora(on: engine) { api in
            let user = try await api.user(verified: false)
            let codes = try await api.mailedCodes(to: user.email)
            #expect(codes.count == 1)
            let code = try #require(codes.first)

            expectError(try await api.post("/api/posts", ["title": "t", "body": "b"], token: user.accessToken), .forbidden,
                        "email_not_verified")
            let verified = try await api.post("/api/auth/verify", ["email": user.email, "code": code])
            #expect(verified.status == .ok && verified.json["emailVerified"].bool == true, "\(verified.body)")
            #expect(try await api.get("/api/users/me", token: user.accessToken).json["emailVerified"].bool == true)
            // The token was issued before verification; the account is checked instead.
            _ = try await api.post(by: user)
            // Verifying again is harmless.
            #expect(try await api.post("/api/auth/verify", ["email": user.email, "code": code]).status == .ok)
        }
    }

    @Test("an unverified user may log in and read, but every write is 403 email_not_verified", arguments: TestEngine.allCases)
    func unverifiedCannotWrite(engine: TestEngine) async throws {
        try await withAgora(on: engine) { api in
            let author = try await api.user()
            let postID = try await api.post(by: author)
            let user = try await api.user(verified: false)
            #expect(try await api.get("/api/posts/\(postID)", token: user.accessToken).status == .ok)
            expectError(try await api.post("/api/posts", ["title": "t", "body": "b"], token: user.accessToken), .forbidden, "email_not_verified")
            expectError(try await api.post("/api/posts/\(postID)/comments", ["body": "hi"], token: user.accessToken), .forbidden, "email_not_verified")
            expectError(try await api.put("/api/posts/\(postID)/like", token: user.accessToken), .forbidden, "email_not_verified")
            expectError(try await api.put("/api/users/\(author.id)/follow", token: user.accessToken), .forbidden, "email_not_verified")
            expectError(try await api.request(.post, "/api/uploads", raw: "GIF89a", contentType: "image/gif", token: user.accessToken),
                        .forbidden, "email_not_verified")
        }
    }

    @Test("AGORA_REQUIRE_VERIFIED_EMAIL=false lets unverified users write", arguments: TestEngine.allCases)
    func verificationCanBeTurnedOff(engine: TestEngine) async throws {
        try await withAgora(on: engine, testSettings { $0.requireVerifiedEmail = false }) { api in
            let user = try await api.user(verified: false)
            _ = try await api.post(by: user)
        }
    }

    @Test("five wrong codes end the code: even the right one is refused afterwards", arguments: TestEngine.allCases)
    func fiveWrongTriesEndTheCode(engine: TestEngine) async throws {
        try await withAgora(on: engine) { api in
            let user = try await api.user(verified: false)
            let code = try #require(try await api.mailedCodes(to: user.email).first)
            let wrong = code == "000000" ? "111111" : "000000"
            for _ in 0..<5 {
                expectError(try await api.post("/api/auth/verify", ["email": user.email, "code": wrong]), .unprocessableContent, "invalid_code")
            }
            expectError(try await api.post("/api/auth/verify", ["email": user.email, "code": code]), .unprocessableContent, "invalid_code")
            #expect(try await api.get("/api/users/me", token: user.accessToken).json["emailVerified"].bool == false)
        }
    }

    @Test("a code expires after ten minutes", arguments: TestEngine.allCases)
    func codesExpire(engine: TestEngine) async throws {
        try await withAgora(on: engine) { api in
            let user = try await api.user(verified: false)
            let code = try #require(try await api.mailedCodes(to: user.email).first)
            try await api.services.database.transaction { db in
                try await db.raw("UPDATE account_codes SET expires_at = \(bind: Int64(Date().timeIntervalSince1970 * 1000) - 1)").run()
            }
            expectError(try await api.post("/api/auth/verify", ["email": user.email, "code": code]), .unprocessableContent, "code_expired")
        }
    }

    @Test("malformed codes and addresses are 422; an unknown address is just a wrong code", arguments: TestEngine.allCases)
    func badInput(engine: TestEngine) async throws {
        try await withAgora(on: engine) { api in
            expectError(try await api.post("/api/auth/verify", ["email": "x@example.com", "code": "12345"]), .unprocessableContent, "invalid_code")
            expectError(try await api.post("/api/auth/verify", ["email": "x@example.com", "code": "１２３４５６"]), .unprocessableContent, "invalid_code")
            expectError(try await api.post("/api/auth/verify", ["email": "nobody@example.com", "code": "123456"]), .unprocessableContent, "invalid_code")
            expectError(try await api.post("/api/auth/verify", ["code": "123456"]), .unprocessableContent, "validation_failed")
            expectError(try await api.post("/api/auth/verify/resend", ["email": "not an address"]), .unprocessableContent, "validation_failed")
        }
    }

    @Test("a resend right after sign-up is 429 with Retry-After; unknown addresses are limited alike", arguments: TestEngine.allCases)
    func resendIsRateLimited(engine: TestEngine) async throws {
        try await withAgora(on: engine) { api in
            let user = try await api.user(verified: false)
            let limited = try await api.post("/api/auth/verify/resend", ["email": user.email])
            expectError(limited, .tooManyRequests, "rate_limited")
            #expect(Int(limited.headers[.retryAfter] ?? "") ?? 0 > 0)
            let unknown = "nobody-\(UUID().uuidString.prefix(6))@example.com"
            #expect(try await api.post("/api/auth/verify/resend", ["email": unknown]).status == .accepted)
            expectError(try await api.post("/api/auth/verify/resend", ["email": unknown]), .tooManyRequests, "rate_limited")
        }
    }

    @Test("a queued resend replaces the code with a new mailed one, once however often the request runs", arguments: TestEngine.allCases)
    func resendReplacesTheCode(engine: TestEngine) async throws {
        try await withAgora(on: engine) { api in
            let user = try await api.user(verified: false)
            let first = try #require(try await api.mailedCodes(to: user.email).first)
            try await api.services.queue.enqueue(AccountCodeRequestJob(email: user.email, purpose: .verifyEmail))
            let codes = try await api.mailedCodes(to: user.email, count: 2)
            #expect(codes.count == 2)
            if codes[1] != first {
                expectError(try await api.post("/api/auth/verify", ["email": user.email, "code": first]), .unprocessableContent, "invalid_code")
            }
            #expect(try await api.post("/api/auth/verify", ["email": user.email, "code": codes[1]]).status == .ok)
            // A verified address gets no more codes.
            try await api.services.queue.enqueue(AccountCodeRequestJob(email: user.email, purpose: .verifyEmail))
            try await Task.sleep(for: .milliseconds(500))
            #expect(api.mails(to: user.email).count == 2)
        }
    }
}

@Suite("Password reset")
struct PasswordResetTests {
    @Test("forgot mails a code; reset sets the password and revokes every refresh token", arguments: TestEngine.allCases)
    func resetFlow(engine: TestEngine) async throws {
        try await withAgora(on: engine) { api in
            let user = try await api.user()
            let forgot = try await api.post("/api/auth/password/forgot", ["email": user.email])
            #expect(forgot.status == .accepted)
            let code = try #require(try await api.mailedCodes(to: user.email, "password reset").first)
            let reset = try await api.post("/api/auth/password/reset",
                                           ["email": user.email, "code": code, "newPassword": "a brand new secret"])
            #expect(reset.status == .noContent, "\(reset.body)")
            expectError(try await api.post("/api/auth/refresh", ["refreshToken": user.refreshToken]), .unauthorized)
            expectError(try await api.post("/api/auth/login", ["email": user.email, "password": user.password]), .unauthorized)
            #expect(try await api.post("/api/auth/login", ["email": user.email, "password": "a brand new secret"]).status == .ok)
            // The code is spent.
            expectError(try await api.post("/api/auth/password/reset", ["email": user.email, "code": code, "newPassword": "another secret!"]),
                        .unprocessableContent, "invalid_code")
        }
    }

    @Test("forgot answers the same for an unknown address, and mails nobody", arguments: TestEngine.allCases)
    func noEnumeration(engine: TestEngine) async throws {
        try await withAgora(on: engine) { api in
            let user = try await api.user()
            let known = try await api.post("/api/auth/password/forgot", ["email": user.email])
            let unknown = try await api.post("/api/auth/password/forgot", ["email": "ghost@example.com"])
            #expect(known.status == .accepted && unknown.status == .accepted && known.body == unknown.body)
            _ = try await api.mailedCodes(to: user.email, "password reset")
            try await Task.sleep(for: .milliseconds(300))
            #expect(api.mails(to: "ghost@example.com").isEmpty)
        }
    }

    @Test("a wrong code or a weak password is refused and the password stays", arguments: TestEngine.allCases)
    func refusals(engine: TestEngine) async throws {
        try await withAgora(on: engine) { api in
            let user = try await api.user()
            _ = try await api.post("/api/auth/password/forgot", ["email": user.email])
            let code = try #require(try await api.mailedCodes(to: user.email, "password reset").first)
            let wrong = code == "000000" ? "111111" : "000000"
            expectError(try await api.post("/api/auth/password/reset", ["email": user.email, "code": wrong, "newPassword": "a brand new secret"]),
                        .unprocessableContent, "invalid_code")
            expectError(try await api.post("/api/auth/password/reset", ["email": user.email, "code": code, "newPassword": "short"]),
                        .unprocessableContent, "validation_failed")
            #expect(try await api.post("/api/auth/login", ["email": user.email, "password": user.password]).status == .ok)
        }
    }
}
