import App
import Foundation
import Testing

@Suite("Demo data")
struct SeedTests {
    @Test("seeded users can log in with the documented password and are verified; seeding is deterministic", arguments: TestEngine.allCases)
    func seededUsers(engine: TestEngine) async throws {
        try await withAgora(on: engine) { api in
            let result = try await DemoSeeder(services: api.services).seed(users: 4, posts: 9, comments: 12, force: false)
            #expect(result.users == 4 && result.posts == 9 && result.comments == 12)
            let login = try await api.post("/api/auth/login", ["email": "user2@example.com", "password": DemoSeeder.password])
            #expect(login.status == .ok)
            #expect(login.json["user"]["emailVerified"].bool == true)
            let posts = try await api.get("/api/posts?limit=100")
            #expect(posts.json["items"].array.count == 9)
            #expect(posts.json["items"][0]["title"].string == "Demo post 9")
            let comments = posts.json["items"].array.compactMap { $0["commentCount"].int }.reduce(0, +)
            #expect(comments == 12)
            await #expect(throws: DemoSeeder.DatabaseNotEmpty.self) {
                _ = try await DemoSeeder(services: api.services).seed(users: 1, posts: 0, comments: 0, force: false)
            }
        }
    }
}
