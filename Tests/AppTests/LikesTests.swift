import Foundation
import Testing

@Suite("Likes")
struct LikesTests {
    @Test("liking is idempotent and likedByMe follows the caller", arguments: TestEngine.allCases)
    func idempotent(engine: TestEngine) async throws {
        try await withAgora(on: engine) { api in
            let alice = try await api.user()
            let bob = try await api.user()
            let id = try await api.post(by: alice)
            for _ in 0..<3 {
                let reply = try await api.put("/api/posts/\(id)/like", token: bob.accessToken)
                #expect(reply.status == .ok)
                #expect(reply.json["liked"].bool == true)
                #expect(reply.json["likeCount"].int == 1)
            }
            #expect(try await api.get("/api/posts/\(id)", token: bob.accessToken).json["likedByMe"].bool == true)
            #expect(try await api.get("/api/posts/\(id)", token: alice.accessToken).json["likedByMe"].bool == false)
            #expect(try await api.get("/api/posts/\(id)").json["likedByMe"].isNull)
            for _ in 0..<2 {
                let reply = try await api.delete("/api/posts/\(id)/like", token: bob.accessToken)
                #expect(reply.json["liked"].bool == false)
                #expect(reply.json["likeCount"].int == 0)
            }
            expectError(try await api.put("/api/posts/\(id)/like"), .unauthorized)
            expectError(try await api.put("/api/posts/999999/like", token: bob.accessToken), .notFound)
        }
    }

    @Test("counts stay exact under 200 concurrent like and unlike calls from many users", arguments: TestEngine.allCases)
    func concurrentLikes(engine: TestEngine) async throws {
        try await withAgora(on: engine) { api in
            let author = try await api.user()
            let id = try await api.post(by: author)
            var users: [TestUser] = []
            for _ in 0..<50 { users.append(try await api.user()) }
            let fans = users
            // Each user likes twice and unlikes once, interleaved with everyone else: 200 calls.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for user in fans {
                    group.addTask {
                        _ = try await api.put("/api/posts/\(id)/like", token: user.accessToken)
                        _ = try await api.delete("/api/posts/\(id)/like", token: user.accessToken)
                        _ = try await api.put("/api/posts/\(id)/like", token: user.accessToken)
                        _ = try await api.put("/api/posts/\(id)/like", token: user.accessToken)
                    }
                }
                try await group.waitForAll()
            }
            #expect(try await api.get("/api/posts/\(id)").json["likeCount"].int == 50)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for user in fans.prefix(20) {
                    group.addTask { _ = try await api.delete("/api/posts/\(id)/like", token: user.accessToken) }
                }
                try await group.waitForAll()
            }
            #expect(try await api.get("/api/posts/\(id)").json["likeCount"].int == 30)
        }
    }
}
