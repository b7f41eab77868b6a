import Foundation
import Testing

@Suite("Posts")
struct PostsTests {
    @Test("creating a post returns it with the token's user as author, default category and normalised tags", arguments: TestEngine.allCases)
    func create(engine: TestEngine) async throws {
        try await withAgora(on: engine) { api in
            let alice = try await api.user("alice")
            let reply = try await api.post("/api/posts", ["title": "Hello", "body": "World", "tags": [" Swift ", "SWIFT", "Server Side"],
                                                           "authorId": 999, "author": ["id": 999]], token: alice.accessToken)
            #expect(reply.status == .created)
            #expect(reply.json["author"]["id"].int64 == alice.id)
            #expect(reply.json["author"]["nickname"].string == "alice")
            #expect(reply.json["category"].string == "general")
            #expect(reply.json["tags"].array.compactMap(\.string) == ["swift", "server-side"])
            #expect(reply.json["likeCount"].int == 0)
            #expect(reply.json["commentCount"].int == 0)
            #expect(reply.json["viewCount"].int == 0)
            #expect(reply.json["likedByMe"].bool == false)
            #expect(reply.json["createdAt"].string?.hasSuffix("Z") == true)
        }
    }

    @Test("post validation: title, body, category and tags", arguments: TestEngine.allCases)
    func validation(engine: TestEngine) async throws {
        try await withAgora(on: engine, testSettings { $0.categories = ["general", "news"] }) { api in
            let alice = try await api.user()
            func fields(_ json: [String: Any]) async throws -> Set<String> {
                let reply = try await api.post("/api/posts", json, token: alice.accessToken)
                expectError(reply, .unprocessableContent, "validation_failed")
                return Set(reply.json["error"]["details"].array.compactMap { $0["field"].string })
            }
            #expect(try await fields([:]) == ["title", "body"])
            #expect(try await fields(["title": "", "body": "   "]) == ["title", "body"])
            #expect(try await fields(["title": String(repeating: "a", count: 201), "body": "x"]) == ["title"])
            #expect(try await fields(["title": "t", "body": String(repeating: "b", count: 100_001)]) == ["body"])
            #expect(try await fields(["title": "t", "body": "b", "category": "sports"]) == ["category"])
            #expect(try await fields(["title": "t", "body": "b", "tags": (0..<11).map { "t\($0)" }]) == ["tags"])
            #expect(try await fields(["title": "t", "body": "b", "tags": [String(repeating: "x", count: 31)]]) == ["tags[0]"])
            let ok = try await api.post("/api/posts", ["title": String(repeating: "가", count: 200), "body": "b", "category": "news",
                                                       "tags": (0..<10).map { "t\($0)" }], token: alice.accessToken)
            #expect(ok.status == .created)
            expectError(try await api.post("/api/posts", ["title": "t", "body": "b"]), .unauthorized)
        }
    }

    @Test("member A cannot change B's post, an admin can, anonymous gets 401, a missing id is 404", arguments: TestEngine.allCases)
    func authorisationMatrix(engine: TestEngine) async throws {
        try await withAgora(on: engine) { api in
            let alice = try await api.user()
            let bob = try await api.user()
            let id = try await api.post(by: alice)
            expectError(try await api.patch("/api/posts/\(id)", ["title": "hijack"], token: bob.accessToken), .forbidden, "forbidden")
            expectError(try await api.delete("/api/posts/\(id)", token: bob.accessToken), .forbidden, "forbidden")
            expectError(try await api.patch("/api/posts/\(id)", ["title": "anon"]), .unauthorized)
            expectError(try await api.delete("/api/posts/\(id)"), .unauthorized)
            expectError(try await api.patch("/api/posts/999999", ["title": "x"], token: alice.accessToken), .notFound)
            expectError(try await api.delete("/api/posts/999999", token: alice.accessToken), .notFound)

            let edited = try await api.patch("/api/posts/\(id)", ["title": "Edited", "tags": ["New"]], token: alice.accessToken)
            #expect(edited.status == .ok)
            #expect(edited.json["title"].string == "Edited")
            #expect(edited.json["body"].string == "A body")
            #expect(edited.json["tags"].array.compactMap(\.string) == ["new"])

            let admin = try await api.admin()
            let moderated = try await api.patch("/api/posts/\(id)", ["body": "moderated"], token: admin.accessToken)
            #expect(moderated.status == .ok)
            #expect(moderated.json["author"]["id"].int64 == alice.id)
            #expect(try await api.delete("/api/posts/\(id)", token: admin.accessToken).status == .noContent)
            expectError(try await api.get("/api/posts/\(id)"), .notFound)
        }
    }

    @Test("the list is newest first and filters by category, tag, author and text", arguments: TestEngine.allCases)
    func listAndFilters(engine: TestEngine) async throws {
        try await withAgora(on: engine, testSettings { $0.categories = ["general", "news"] }) { api in
            let alice = try await api.user()
            let bob = try await api.user()
            let a = try await api.post(by: alice, title: "Swift on the server", tags: ["swift"])
            let b = try await api.post(by: bob, title: "뉴스 속보", body: "오늘의 소식", tags: ["news"])
            let c = try await api.post("/api/posts", ["title": "Category post", "body": "100% _literal_ 'quote\" text",
                                                      "category": "news"], token: bob.accessToken).json["id"].int64 ?? 0
            func ids(_ query: String) async throws -> [Int64] {
                let reply = try await api.get("/api/posts" + query)
                #expect(reply.status == .ok, "\(query): \(reply.body)")
                return reply.json["items"].array.compactMap { $0["id"].int64 }
            }
            #expect(try await ids("") == [c, b, a])
            #expect(try await ids("?category=news") == [c])
            #expect(try await ids("?tag=SWIFT") == [a])
            #expect(try await ids("?author=\(bob.id)") == [c, b])
            #expect(try await ids("?q=server") == [a])
            #expect(try await ids("?q=SERVER") == [a])
            #expect(try await ids("?q=%EC%86%8C%EC%8B%9D") == [b])           // 소식: two Hangul syllables
            #expect(try await ids("?q=%EB%89%B4%EC%8A%A4%20%EC%86%8D") == [b]) // "뉴스 속"
            #expect(try await ids("?q=100%25") == [c])
            #expect(try await ids("?q=_literal_") == [c])
            #expect(try await ids("?q=%25") == [c])
            #expect(try await ids("?q=%22") == [c])
            #expect(try await ids("?q=%27quote%22") == [c])
            #expect(try await ids("?q=NEAR%28a%20b%29%20OR%20*") == [])
            #expect(try await ids("?q=%27%3B%20DROP%20TABLE%20posts%3B--") == [])
            #expect(try await ids("?author=\(alice.id)&q=server&tag=swift") == [a])
            expectError(try await api.get("/api/posts?author=abc"), .unprocessableContent)
            expectError(try await api.get("/api/posts?limit=0"), .unprocessableContent)
            expectError(try await api.get("/api/posts?limit=101"), .unprocessableContent)
            expectError(try await api.get("/api/posts?cursor=garbage"), .unprocessableContent)
        }
    }

    @Test("keyset pages neither repeat nor skip while posts are inserted concurrently", arguments: TestEngine.allCases)
    func paginationUnderInserts(engine: TestEngine) async throws {
        try await withAgora(on: engine) { api in
            let alice = try await api.user()
            var existing: [Int64] = []
            for i in 0..<25 { existing.append(try await api.post(by: alice, title: "post \(i)")) }
            let seen = try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for i in 0..<20 { _ = try await api.post(by: alice, title: "new \(i)") }
                }
                let seen = try await api.allPageIDs("/api/posts?limit=4")
                try await group.waitForAll()
                return seen
            }
            #expect(Set(seen).count == seen.count, "no item repeated")
            #expect(Set(existing).isSubset(of: Set(seen)), "no item skipped")
            #expect(seen == seen.sorted(by: >), "newest first")
        }
    }

    @Test("related posts rank by Jaccard similarity of tags, ties newest first, at most 5, never itself", arguments: TestEngine.allCases)
    func related(engine: TestEngine) async throws {
        try await withAgora(on: engine) { api in
            let alice = try await api.user()
            let base = try await api.post(by: alice, tags: ["a", "b", "c"])
            let same = try await api.post(by: alice, tags: ["a", "b", "c"])            // 3/3 = 1
            let twoOfFour = try await api.post(by: alice, tags: ["a", "b", "c", "d"]) // 3/4
            let one = try await api.post(by: alice, tags: ["a"])                        // 1/3
            let oneNewer = try await api.post(by: alice, tags: ["b"])                   // 1/3, newer
            _ = try await api.post(by: alice, tags: ["z"])                              // 0: excluded
            let oneWide = try await api.post(by: alice, tags: ["c", "x", "y", "w"])    // 1/6
            let alsoOneWide = try await api.post(by: alice, tags: ["c", "q", "r", "s"]) // 1/6, newer
            let reply = try await api.get("/api/posts/\(base)/related")
            #expect(reply.status == .ok)
            let ids = reply.json["items"].array.compactMap { $0["id"].int64 }
            #expect(ids == [same, twoOfFour, oneNewer, one, alsoOneWide])
            _ = oneWide
            expectError(try await api.get("/api/posts/999999/related"), .notFound)
            let lonely = try await api.post(by: alice)
            #expect(try await api.get("/api/posts/\(lonely)/related").json["items"].array.isEmpty)
        }
    }
}
