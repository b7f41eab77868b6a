import App
import Foundation
import HummingbirdTesting
import Logging
import SQLKit
import Testing

@Suite("Post view counts")
struct ViewCountsTests {
    @Test("thousands of concurrent reads are counted exactly once the buffered views are flushed", arguments: TestEngine.allCases)
    func concurrentReadsAreExact(engine: TestEngine) async throws {
        // A long interval: this test flushes by hand, while reads are still arriving.
        try await withAgora(on: engine, testSettings { $0.viewFlushInterval = .seconds(3600) }) { api in
            let author = try await api.user()
            let postID = try await api.post(by: author)
            let reads = 4_000
            try await withThrowingTaskGroup(of: Void.self) { group in
                for worker in 0..<64 {
                    group.addTask {
                        for n in stride(from: worker, to: reads, by: 64) {
                            let reply = try await api.get("/api/posts/\(postID)")
                            #expect(reply.status == .ok)
                            if n == reads / 2 { try await api.services.viewCounter.flush() }
                        }
                    }
                }
                try await group.waitForAll()
            }
            try await api.services.viewCounter.flush()
            #expect(try await storedViews(of: postID, in: api.services) == reads)
            // The cached post shows the new count; this read counts as one more.
            #expect(try await api.get("/api/posts/\(postID)").json["viewCount"].int == reads)
        }
    }

    @Test("one flush writes the views of thousands of posts, and skips a post that does not exist", arguments: TestEngine.allCases)
    func flushOfManyPosts(engine: TestEngine) async throws {
        try await withAgora(on: engine, testSettings { $0.viewFlushInterval = .seconds(3600) }) { api in
            _ = try await DemoSeeder(services: api.services).seed(users: 3, posts: 2_500, comments: 0, force: false)
            let ids = try await api.services.database.read { db in
                try await db.raw("SELECT id FROM posts ORDER BY id").all().map { try $0.decode(column: "id", as: Int64.self) }
            }
            #expect(ids.count == 2_500)
            for (index, id) in ids.enumerated() {
                for _ in 0...(index % 3) { api.services.viewCounter.record(id) }
            }
            api.services.viewCounter.record(Int64.max) // no such post
            #expect(try await api.services.viewCounter.flush() == (0..<2_500).reduce(0) { $0 + $1 % 3 + 1 } + 1)
            let stored = try await api.services.database.read { db in
                try await db.raw("SELECT id, view_count FROM posts").all().map {
                    (try $0.decode(column: "id", as: Int64.self), try $0.decode(column: "view_count", as: Int.self))
                }
            }
            let expected = Dictionary(uniqueKeysWithValues: ids.enumerated().map { ($1, $0 % 3 + 1) })
            #expect(Dictionary(uniqueKeysWithValues: stored) == expected)
        }
    }

    @Test("a graceful stop writes the views still buffered", arguments: TestEngine.allCases)
    func gracefulStopFlushes(engine: TestEngine) async throws {
        try await withTestDatabase(on: engine, testSettings { $0.viewFlushInterval = .seconds(3600) }) { settings in
            var logger = Logger(label: "agora-test")
            logger.logLevel = .warning
            let services = try await AgoraServices.open(settings: settings, logger: logger)
            let postID = try await buildApplication(services: services, logger: logger).test(.router) { client in
                let api = API(client: client, services: services)
                let postID = try await api.post(by: try await api.user())
                for _ in 0..<25 { #expect(try await api.get("/api/posts/\(postID)").status == .ok) }
                return postID
            }
            let reopened = try await AgoraServices.open(settings: settings, logger: logger)
            let views = try await storedViews(of: postID, in: reopened)
            try await reopened.close()
            #expect(views == 25)
        }
    }

    private func storedViews(of postID: Int64, in services: AgoraServices) async throws -> Int? {
        try await services.database.read { db in
            try await db.raw("SELECT view_count FROM posts WHERE id = \(bind: postID)").first()?.decode(column: "view_count", as: Int.self)
        }
    }
}
