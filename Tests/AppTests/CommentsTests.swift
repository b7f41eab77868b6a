import Foundation
import Testing

@Suite("Comments")
struct CommentsTests {
    @Test("comments list oldest first, page by cursor, and count on the post", arguments: TestEngine.allCases)
    func listAndCount(engine: TestEngine) async throws {
        try await withAgora(on: engine) { api in
            let alice = try await api.user()
            let post = try await api.post(by: alice)
            var ids: [Int64] = []
            for i in 0..<5 {
                let reply = try await api.post("/api/posts/\(post)/comments", ["body": "comment \(i) 💬"], token: alice.accessToken)
                #expect(reply.status == .created)
                #expect(reply.json["postId"].int64 == post)
                #expect(reply.json["author"]["id"].int64 == alice.id)
                ids.append(reply.json["id"].int64 ?? 0)
            }
            let first = try await api.get("/api/posts/\(post)/comments?limit=3")
            #expect(first.json["items"].array.compactMap { $0["id"].int64 } == Array(ids.prefix(3)))
            let cursor = try #require(first.json["nextCursor"].string)
            let second = try await api.get("/api/posts/\(post)/comments?limit=3&cursor=\(cursor)")
            #expect(second.json["items"].array.compactMap { $0["id"].int64 } == Array(ids.suffix(2)))
            #expect(second.json["nextCursor"].isNull)
            #expect(try await api.get("/api/posts/\(post)").json["commentCount"].int == 5)
            expectError(try await api.get("/api/posts/999999/comments"), .notFound)
        }
    }

    @Test("only the author or an admin edits or deletes a comment", arguments: TestEngine.allCases)
    func authorisation(engine: TestEngine) async throws {
        try await withAgora(on: engine) { api in
            let alice = try await api.user()
            let bob = try await api.user()
            let post = try await api.post(by: alice)
            let comment = try await api.post("/api/posts/\(post)/comments", ["body": "mine"], token: bob.accessToken).json["id"].int64 ?? 0
            expectError(try await api.patch("/api/comments/\(comment)", ["body": "hijack"], token: alice.accessToken), .forbidden)
            expectError(try await api.delete("/api/comments/\(comment)", token: alice.accessToken), .forbidden)
            expectError(try await api.patch("/api/comments/\(comment)", ["body": "anon"]), .unauthorized)
            expectError(try await api.post("/api/posts/\(post)/comments", ["body": "anon"]), .unauthorized)
            let edited = try await api.patch("/api/comments/\(comment)", ["body": "edited 편집"], token: bob.accessToken)
            #expect(edited.status == .ok)
            #expect(edited.json["body"].string == "edited 편집")
            let admin = try await api.admin()
            #expect(try await api.delete("/api/comments/\(comment)", token: admin.accessToken).status == .noContent)
            expectError(try await api.delete("/api/comments/\(comment)", token: bob.accessToken), .notFound)
            #expect(try await api.get("/api/posts/\(post)").json["commentCount"].int == 0)
        }
    }

    @Test("comment bodies are 1 to 5,000 characters", arguments: TestEngine.allCases)
    func validation(engine: TestEngine) async throws {
        try await withAgora(on: engine) { api in
            let alice = try await api.user()
            let post = try await api.post(by: alice)
            expectError(try await api.post("/api/posts/\(post)/comments", ["body": ""], token: alice.accessToken), .unprocessableContent)
            expectError(try await api.post("/api/posts/\(post)/comments", [:], token: alice.accessToken), .unprocessableContent)
            expectError(try await api.post("/api/posts/\(post)/comments", ["body": String(repeating: "가", count: 5001)],
                                           token: alice.accessToken), .unprocessableContent)
            #expect(try await api.post("/api/posts/\(post)/comments", ["body": String(repeating: "가", count: 5000)],
                                       token: alice.accessToken).status == .created)
            expectError(try await api.post("/api/posts/999999/comments", ["body": "x"], token: alice.accessToken), .notFound)
        }
    }
}
