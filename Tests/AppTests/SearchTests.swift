import App
import Foundation
import Testing

@Suite("Search stays exact while the index catches up")
struct SearchTests {
    func ids(_ api: API, _ q: String) async throws -> [Int64] {
        let encoded = q.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? q
        return try await api.get("/api/posts?q=\(encoded)").json["items"].array.compactMap { $0["id"].int64 }
    }

    @Test("indexed, unindexed, edited and deleted posts are all found exactly as they are now", arguments: TestEngine.allCases)
    func exactAcrossIndexing(engine: TestEngine) async throws {
        try await withAgora(on: engine) { api in
            let alice = try await api.user()
            let indexed = try await api.post(by: alice, title: "alpha indexed", body: "first")
            let edited = try await api.post(by: alice, title: "beta before", body: "second")
            let deleted = try await api.post(by: alice, title: "alpha doomed", body: "third")
            // The running indexer may get there first; either way these three are indexed now.
            try await api.services.searchIndexer.catchUp()
            let fresh = try await api.post(by: alice, title: "alpha fresh", body: "not indexed yet")
            #expect(try await ids(api, "alpha") == [fresh, deleted, indexed])

            _ = try await api.patch("/api/posts/\(edited)", ["title": "gamma after"], token: alice.accessToken)
            _ = try await api.delete("/api/posts/\(deleted)", token: alice.accessToken)
            #expect(try await ids(api, "beta") == [])
            #expect(try await ids(api, "gamma") == [edited])
            #expect(try await ids(api, "alpha") == [fresh, indexed])

            try await api.services.searchIndexer.catchUp()
            #expect(try await ids(api, "alpha") == [fresh, indexed])
            #expect(try await ids(api, "not indexed") == [fresh])
            #expect(try await api.services.searchIndexer.catchUp() == 0)
        }
    }

    @Test("the running indexer catches up with new posts by itself", arguments: TestEngine.allCases)
    func indexerRuns(engine: TestEngine) async throws {
        try await withAgora(on: engine) { api in
            let alice = try await api.user()
            _ = try await api.post(by: alice, title: "delta")
            var caughtUp = false
            for _ in 0..<100 where !caughtUp {
                try await Task.sleep(for: .milliseconds(50))
                caughtUp = try await api.services.searchIndexer.catchUp() == 0
            }
            #expect(caughtUp)
            #expect(try await ids(api, "delta").count == 1)
        }
    }
}
