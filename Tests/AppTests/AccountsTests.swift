import App
import Foundation
import HTTPTypes
import Testing

@Suite("Accounts: sign-up, login and profile")
struct AccountsTests {
    @Test("sign-up returns the user without the password hash, lower-cased email, unverified member", arguments: TestEngine.allCases)
    func signup(engine: TestEngine) async throws {
        try await withAgora(on: engine) { api in
            let reply = try await api.post("/api/auth/signup", ["email": "  Alice@Example.COM ", "password": "long enough", "nickname": "앨리스"])
            #expect(reply.status == .created)
            let user = reply.json["user"]
            #expect(user["email"].string == "alice@example.com")
            #expect(user["nickname"].string == "앨리스")
            #expect(user["role"].string == "member")
            #expect(user["emailVerified"].bool == false)
            #expect(user["id"].int != nil)
            #expect(!reply.body.contains("password"))
            #expect(!reply.body.contains("$2b$"))
        }
    }

    @Test("a taken email is 409 email_taken, a nickname taken in another case is 409 nickname_taken", arguments: TestEngine.allCases)
    func uniqueness(engine: TestEngine) async throws {
        try await withAgora(on: engine) { api in
            _ = try await api.post("/api/auth/signup", ["email": "a@example.com", "password": "long enough", "nickname": "Σοφία"])
            expectError(try await api.post("/api/auth/signup", ["email": "A@example.com", "password": "long enough", "nickname": "other"]),
                        .conflict, "email_taken")
            expectError(try await api.post("/api/auth/signup", ["email": "b@example.com", "password": "long enough", "nickname": "ΣΟΦΊΑ"]),
                        .conflict, "nickname_taken")
            expectError(try await api.post("/api/auth/signup", ["email": "c@example.com", "password": "long enough", "nickname": "σοφία"]),
                        .conflict, "nickname_taken")
        }
    }

    @Test("sign-up validation names every bad field with 422", arguments: TestEngine.allCases)
    func signupValidation(engine: TestEngine) async throws {
        try await withAgora(on: engine) { api in
            let reply = try await api.post("/api/auth/signup", ["email": "not-an-email", "password": "short", "nickname": "x"])
            expectError(reply, .unprocessableContent, "validation_failed")
            let fields = Set(reply.json["error"]["details"].array.compactMap { $0["field"].string })
            #expect(fields == ["email", "password", "nickname"])
            let missing = try await api.post("/api/auth/signup", [:])
            expectError(missing, .unprocessableContent, "validation_failed")
            #expect(missing.json["error"]["details"].array.count == 3)
            let long = try await api.post("/api/auth/signup", ["email": "l@example.com", "password": "long enough",
                                                                "nickname": String(repeating: "가", count: 31)])
            expectError(long, .unprocessableContent, "validation_failed")
            let thirty = try await api.post("/api/auth/signup", ["email": "m@example.com", "password": "long enough",
                                                                  "nickname": String(repeating: "가", count: 30)])
            #expect(thirty.status == .created)
        }
    }

    @Test("unknown email and wrong password give the same 401", arguments: TestEngine.allCases)
    func loginFailures(engine: TestEngine) async throws {
        try await withAgora(on: engine) { api in
            let user = try await api.user()
            let wrong = try await api.post("/api/auth/login", ["email": user.email, "password": "wrong password"])
            let unknown = try await api.post("/api/auth/login", ["email": "nobody@example.com", "password": "wrong password"])
            expectError(wrong, .unauthorized, "unauthorized")
            #expect(wrong.body == unknown.body)
            #expect(wrong.status == unknown.status)
        }
    }

    @Test("login returns a bearer token that reaches /api/users/me", arguments: TestEngine.allCases)
    func loginAndMe(engine: TestEngine) async throws {
        try await withAgora(on: engine) { api in
            let user = try await api.user("로그인")
            let me = try await api.get("/api/users/me", token: user.accessToken)
            #expect(me.status == .ok)
            #expect(me.json["nickname"].string == "로그인")
            #expect(me.json["followerCount"].int == 0)
            expectError(try await api.get("/api/users/me"), .unauthorized)
            expectError(try await api.get("/api/users/me", token: "garbage"), .unauthorized, "invalid_token")
        }
    }

    @Test("a token signed with alg none or another key is refused", arguments: TestEngine.allCases)
    func forgedTokens(engine: TestEngine) async throws {
        try await withAgora(on: engine) { api in
            let user = try await api.user()
            let parts = user.accessToken.split(separator: ".")
            let header = Data(#"{"alg":"none","typ":"JWT"}"#.utf8).base64EncodedString()
                .replacingOccurrences(of: "=", with: "")
            expectError(try await api.get("/api/users/me", token: "\(header).\(parts[1])."), .unauthorized, "invalid_token")
            let tampered = "\(parts[0]).\(parts[1]).\(String(parts[2].reversed()))"
            expectError(try await api.get("/api/users/me", token: tampered), .unauthorized, "invalid_token")
        }
    }

    @Test("repeated failed logins are rate-limited per email with Retry-After", arguments: TestEngine.allCases)
    func loginRateLimit(engine: TestEngine) async throws {
        try await withAgora(on: engine, testSettings { $0.maxLoginFailuresPerEmail = 3 }) { api in
            let user = try await api.user()
            for _ in 0..<3 {
                expectError(try await api.post("/api/auth/login", ["email": user.email, "password": "wrong password"]), .unauthorized)
            }
            let limited = try await api.post("/api/auth/login", ["email": user.email, "password": user.password])
            expectError(limited, .tooManyRequests, "rate_limited")
            #expect(Int(limited.headers[HTTPField.Name("Retry-After")!] ?? "") ?? 0 > 0)
        }
    }

    @Test("PATCH /api/users/me changes nickname and bio; a taken nickname is 409", arguments: TestEngine.allCases)
    func updateProfile(engine: TestEngine) async throws {
        try await withAgora(on: engine) { api in
            let alice = try await api.user("alice")
            _ = try await api.user("bob")
            let updated = try await api.patch("/api/users/me", ["nickname": "앨리스 🌸", "bio": "Robert'); DROP TABLE users;--"],
                                              token: alice.accessToken)
            #expect(updated.status == .ok)
            #expect(updated.json["nickname"].string == "앨리스 🌸")
            #expect(updated.json["bio"].string == "Robert'); DROP TABLE users;--")
            expectError(try await api.patch("/api/users/me", ["nickname": "BOB"], token: alice.accessToken), .conflict, "nickname_taken")
            let same = try await api.patch("/api/users/me", ["nickname": "앨리스 🌸"], token: alice.accessToken)
            #expect(same.status == .ok)
            let profile = try await api.get("/api/users/\(alice.id)")
            #expect(profile.json["bio"].string == "Robert'); DROP TABLE users;--")
            #expect(profile.json["email"].isNull)
        }
    }

    @Test("changing the password needs the current one and revokes every refresh token", arguments: TestEngine.allCases)
    func changePassword(engine: TestEngine) async throws {
        try await withAgora(on: engine) { api in
            let user = try await api.user()
            expectError(try await api.put("/api/users/me/password", ["currentPassword": "wrong one!", "newPassword": "brand new pass"],
                                          token: user.accessToken), .unprocessableContent)
            let changed = try await api.put("/api/users/me/password", ["currentPassword": user.password, "newPassword": "brand new pass"],
                                            token: user.accessToken)
            #expect(changed.status == .noContent)
            expectError(try await api.post("/api/auth/refresh", ["refreshToken": user.refreshToken]), .unauthorized)
            expectError(try await api.post("/api/auth/login", ["email": user.email, "password": user.password]), .unauthorized)
            #expect(try await api.post("/api/auth/login", ["email": user.email, "password": "brand new pass"]).status == .ok)
        }
    }

    @Test("deleting an account removes its posts and comments and keeps other posts' counts exact", arguments: TestEngine.allCases)
    func deleteAccount(engine: TestEngine) async throws {
        try await withAgora(on: engine) { api in
            let alice = try await api.user()
            let bob = try await api.user()
            let alicePost = try await api.post(by: alice)
            let bobPost = try await api.post(by: bob)
            _ = try await api.put("/api/posts/\(bobPost)/like", token: alice.accessToken)
            _ = try await api.post("/api/posts/\(bobPost)/comments", ["body": "from alice"], token: alice.accessToken)
            _ = try await api.post("/api/posts/\(alicePost)/comments", ["body": "from bob"], token: bob.accessToken)
            _ = try await api.put("/api/users/\(bob.id)/follow", token: alice.accessToken)

            #expect(try await api.delete("/api/users/me", token: alice.accessToken).status == .noContent)
            expectError(try await api.get("/api/posts/\(alicePost)"), .notFound)
            let post = try await api.get("/api/posts/\(bobPost)")
            #expect(post.json["likeCount"].int == 0)
            #expect(post.json["commentCount"].int == 0)
            #expect(try await api.get("/api/users/\(bob.id)").json["followerCount"].int == 0)
            expectError(try await api.get("/api/users/\(alice.id)"), .notFound)
            expectError(try await api.get("/api/users/me", token: alice.accessToken), .unauthorized)
            expectError(try await api.post("/api/auth/login", ["email": alice.email, "password": alice.password]), .unauthorized)
        }
    }
}

@Suite("A deleted account's tokens")
struct DeletedAccountTests {
    @Test("writing with the access token of a deleted account is 401, never a 500", arguments: TestEngine.allCases)
    func writesAfterDeletion(engine: TestEngine) async throws {
        try await withAgora(on: engine) { api in
            let alice = try await api.user()
            let bob = try await api.user()
            let post = try await api.post(by: bob)
            #expect(try await api.delete("/api/users/me", token: alice.accessToken).status == .noContent)
            expectError(try await api.post("/api/posts", ["title": "t", "body": "b"], token: alice.accessToken), .unauthorized)
            expectError(try await api.post("/api/posts/\(post)/comments", ["body": "b"], token: alice.accessToken), .unauthorized)
            expectError(try await api.put("/api/posts/\(post)/like", token: alice.accessToken), .unauthorized)
            expectError(try await api.put("/api/users/\(bob.id)/follow", token: alice.accessToken), .unauthorized)
            expectError(try await api.patch("/api/users/me", ["bio": "x"], token: alice.accessToken), .unauthorized)
        }
    }
}
