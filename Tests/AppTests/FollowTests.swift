import Foundation
import Testing

@Suite("Follows")
struct FollowTests {
    @Test("following is idempotent and shows in both lists and the profile counts", arguments: TestEngine.allCases)
    func followAndCounts(engine: TestEngine) async throws {
        try await withAgora(on: engine) { api in
            let alice = try await api.user()
            let bob = try await api.user()
            for _ in 0..<2 {
                let reply = try await api.put("/api/users/\(bob.id)/follow", token: alice.accessToken)
                #expect(reply.status == .ok)
                #expect(reply.json["following"].bool == true)
            }
            let profile = try await api.get("/api/users/\(bob.id)")
            #expect(profile.json["followerCount"].int == 1)
            #expect(try await api.get("/api/users/\(alice.id)").json["followingCount"].int == 1)
            let followers = try await api.get("/api/users/\(bob.id)/followers")
            #expect(followers.json["items"].array.map { $0["id"].int64 } == [alice.id])
            let following = try await api.get("/api/users/\(alice.id)/following")
            #expect(following.json["items"][0]["nickname"].string == bob.nickname)
            #expect(following.json["items"][0]["id"].int64 == bob.id)
            for _ in 0..<2 {
                let reply = try await api.delete("/api/users/\(bob.id)/follow", token: alice.accessToken)
                #expect(reply.status == .ok)
                #expect(reply.json["following"].bool == false)
            }
            #expect(try await api.get("/api/users/\(bob.id)").json["followerCount"].int == 0)
        }
    }

    @Test("following yourself is 422, an unknown user 404, anonymous 401", arguments: TestEngine.allCases)
    func followErrors(engine: TestEngine) async throws {
        try await withAgora(on: engine) { api in
            let alice = try await api.user()
            expectError(try await api.put("/api/users/\(alice.id)/follow", token: alice.accessToken), .unprocessableContent, "validation_failed")
            expectError(try await api.put("/api/users/999999/follow", token: alice.accessToken), .notFound)
            expectError(try await api.put("/api/users/\(alice.id)/follow"), .unauthorized)
            expectError(try await api.get("/api/users/999999/followers"), .notFound)
        }
    }

    @Test("follower lists page with a cursor, newest first, without repeats", arguments: TestEngine.allCases)
    func followerPages(engine: TestEngine) async throws {
        try await withAgora(on: engine) { api in
            let star = try await api.user()
            var fans: [Int64] = []
            for _ in 0..<5 {
                let fan = try await api.user()
                _ = try await api.put("/api/users/\(star.id)/follow", token: fan.accessToken)
                fans.append(fan.id)
            }
            #expect(try await api.allPageIDs("/api/users/\(star.id)/followers?limit=2") == fans.reversed())
        }
    }
}
