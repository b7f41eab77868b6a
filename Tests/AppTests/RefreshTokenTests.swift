import Foundation
import Testing

@Suite("Refresh tokens: rotation, reuse detection and logout")
struct RefreshTokenTests {
    @Test("a refresh gives a new pair and the old refresh token stops working", arguments: TestEngine.allCases)
    func rotation(engine: TestEngine) async throws {
        try await withAgora(on: engine) { api in
            let user = try await api.user()
            let refreshed = try await api.post("/api/auth/refresh", ["refreshToken": user.refreshToken])
            #expect(refreshed.status == .ok)
            let newRefresh = try #require(refreshed.json["refreshToken"].string)
            #expect(newRefresh != user.refreshToken)
            #expect(newRefresh.count >= 43) // 256 bits in base64url
            #expect(refreshed.json["expiresIn"].int == 900)
            let access = try #require(refreshed.json["accessToken"].string)
            #expect(try await api.get("/api/users/me", token: access).status == .ok)
        }
    }

    @Test("a rotated refresh token cannot be reused, and reusing it revokes the whole family", arguments: TestEngine.allCases)
    func reuseRevokesFamily(engine: TestEngine) async throws {
        try await withAgora(on: engine) { api in
            let user = try await api.user()
            let first = try await api.post("/api/auth/refresh", ["refreshToken": user.refreshToken])
            let current = try #require(first.json["refreshToken"].string)
            // An attacker replays the stolen, already-rotated token.
            expectError(try await api.post("/api/auth/refresh", ["refreshToken": user.refreshToken]), .unauthorized)
            // The legitimate holder's newer token is now revoked too.
            expectError(try await api.post("/api/auth/refresh", ["refreshToken": current]), .unauthorized)
        }
    }

    @Test("families are independent: reuse in one login does not sign out another", arguments: TestEngine.allCases)
    func familiesAreIndependent(engine: TestEngine) async throws {
        try await withAgora(on: engine) { api in
            let user = try await api.user()
            let second = try await api.post("/api/auth/login", ["email": user.email, "password": user.password])
            let otherRefresh = try #require(second.json["refreshToken"].string)
            _ = try await api.post("/api/auth/refresh", ["refreshToken": user.refreshToken])
            _ = try await api.post("/api/auth/refresh", ["refreshToken": user.refreshToken])
            #expect(try await api.post("/api/auth/refresh", ["refreshToken": otherRefresh]).status == .ok)
        }
    }

    @Test("logout revokes the refresh token; logging out twice is harmless", arguments: TestEngine.allCases)
    func logout(engine: TestEngine) async throws {
        try await withAgora(on: engine) { api in
            let user = try await api.user()
            #expect(try await api.post("/api/auth/logout", ["refreshToken": user.refreshToken]).status == .noContent)
            #expect(try await api.post("/api/auth/logout", ["refreshToken": user.refreshToken]).status == .noContent)
            expectError(try await api.post("/api/auth/refresh", ["refreshToken": user.refreshToken]), .unauthorized)
        }
    }

    @Test("an unknown, empty or missing refresh token is refused", arguments: TestEngine.allCases)
    func invalidTokens(engine: TestEngine) async throws {
        try await withAgora(on: engine) { api in
            expectError(try await api.post("/api/auth/refresh", ["refreshToken": "not-a-token"]), .unauthorized)
            expectError(try await api.post("/api/auth/refresh", ["refreshToken": ""]), .unprocessableContent)
            expectError(try await api.post("/api/auth/refresh", [:]), .unprocessableContent)
            expectError(try await api.post("/api/auth/refresh", ["refreshToken": 42]), .badRequest, "invalid_body")
        }
    }

    @Test("an expired refresh token is refused", arguments: TestEngine.allCases)
    func expired(engine: TestEngine) async throws {
        try await withAgora(on: engine, testSettings { $0.refreshTokenLifetime = .seconds(-1) }) { api in
            let user = try await api.user()
            expectError(try await api.post("/api/auth/refresh", ["refreshToken": user.refreshToken]), .unauthorized)
        }
    }

    @Test("an expired access token is refused with invalid_token", arguments: TestEngine.allCases)
    func expiredAccessToken(engine: TestEngine) async throws {
        try await withAgora(on: engine, testSettings { $0.accessTokenLifetime = .seconds(-30) }) { api in
            let user = try await api.user()
            expectError(try await api.get("/api/users/me", token: user.accessToken), .unauthorized, "invalid_token")
        }
    }
}
