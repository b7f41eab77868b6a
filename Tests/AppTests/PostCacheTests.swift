import Foundation
import Testing

@Suite("Post cache never serves a stale post")
struct PostCacheTests {
    @Test("a cached post shows every committed change at once: like, comment, edit, rename, deletion", arguments: TestEngine.allCases)
    func invalidation(engine: TestEngine) async throws {
        try await withAgora(on: engine) { api in
            let alice = try await api.user("alice")
            let bob = try await api.user()
            let id = try await api.post(by: alice)
            func read() async throws -> JSON { try await api.get("/api/posts/\(id)").json }
            #expect(try await read()["likeCount"].int == 0)
            _ = try await api.put("/api/posts/\(id)/like", token: bob.accessToken)
            #expect(try await read()["likeCount"].int == 1)
            #expect(try await api.get("/api/posts/\(id)", token: bob.accessToken).json["likedByMe"].bool == true)
            #expect(try await api.get("/api/posts/\(id)", token: alice.accessToken).json["likedByMe"].bool == false)
            let comment = try await api.post("/api/posts/\(id)/comments", ["body": "hi"], token: bob.accessToken).json["id"].int64 ?? 0
            #expect(try await read()["commentCount"].int == 1)
            _ = try await api.delete("/api/comments/\(comment)", token: bob.accessToken)
            #expect(try await read()["commentCount"].int == 0)
            _ = try await api.patch("/api/posts/\(id)", ["title": "Changed"], token: alice.accessToken)
            #expect(try await read()["title"].string == "Changed")
            _ = try await api.patch("/api/users/me", ["nickname": "alice2"], token: alice.accessToken)
            #expect(try await read()["author"]["nickname"].string == "alice2")
            _ = try await api.delete("/api/users/me", token: alice.accessToken)
            expectError(try await api.get("/api/posts/\(id)"), .notFound)
        }
    }

    @Test("a liker's account deletion updates the cached like count", arguments: TestEngine.allCases)
    func likerDeleted(engine: TestEngine) async throws {
        try await withAgora(on: engine) { api in
            let alice = try await api.user()
            let bob = try await api.user()
            let id = try await api.post(by: alice)
            _ = try await api.put("/api/posts/\(id)/like", token: bob.accessToken)
            #expect(try await api.get("/api/posts/\(id)").json["likeCount"].int == 1)
            _ = try await api.delete("/api/users/me", token: bob.accessToken)
            #expect(try await api.get("/api/posts/\(id)").json["likeCount"].int == 0)
        }
    }
}
