import App
import Foundation
import HTTPTypes
import Queue
import SQLKit
import Testing
import ZIPFoundation

@Suite("Data exports")
struct ExportsTests {
    @Test("an export is a ZIP of the profile, every post (past one page) and every comment, for its owner only", arguments: TestEngine.allCases)
    func exportIsComplete(engine: TestEngine) async throws {
        try await withAgora(on: engine) { api in
            let me = try await api.user("내보내기")
            let other = try await api.user()
            let first = try await api.post(by: me, title: "한국어 제목 🎉", body: "본문")
            for n in 0..<204 { _ = try await api.post(by: me, title: "post \(n)") }
            _ = try await api.post(by: other)
            for body in ["첫 댓글", "second"] {
                #expect(try await api.post("/api/posts/\(first)/comments", ["body": body], token: me.accessToken).status == .created)
            }

            let started = try await api.post("/api/users/me/export", [:], token: me.accessToken)
            #expect(started.status == .accepted, "\(started.body)")
            let id = try #require(started.json["exportId"].int64)
            var status = Reply(status: .ok, headers: [:], body: "")
            #expect(try await eventually {
                status = try await api.get("/api/exports/\(id)", token: me.accessToken)
                return status.json["status"].string == "ready"
            })
            #expect(status.json["progress"].int == 100 && status.json["downloadUrl"].string == "/api/exports/\(id)/file")

            expectError(try await api.get("/api/exports/\(id)", token: other.accessToken), .notFound)
            expectError(try await api.get("/api/exports/\(id)/file", token: other.accessToken), .notFound)
            expectError(try await api.get("/api/exports/\(id)"), .unauthorized)

            let file = try await api.client.execute(uri: "/api/exports/\(id)/file", method: .get,
                                                    headers: [.authorization: "Bearer \(me.accessToken)"]) { response in
                (response.status, response.headers[.contentType], Data(buffer: response.body))
            }
            #expect(file.0 == .ok && file.1 == "application/zip")
            #expect(Int64(file.2.count) == status.json["size"].int64)
            let archive = try Archive(data: file.2, accessMode: .read)
            func json(_ name: String) throws -> Any {
                let entry = try #require(archive[name])
                var data = Data()
                _ = try archive.extract(entry) { data.append($0) }
                return try JSONSerialization.jsonObject(with: data)
            }
            let profile = try #require(try json("profile.json") as? [String: Any])
            #expect(profile["nickname"] as? String == "내보내기" && profile["postCount"] as? Int == 205)
            let posts = try #require(try json("posts.json") as? [[String: Any]])
            #expect(posts.count == 205 && Set(posts.compactMap { $0["id"] as? Int }).count == 205)
            #expect(posts.contains { $0["title"] as? String == "한국어 제목 🎉" })
            let comments = try #require(try json("comments.json") as? [[String: Any]])
            #expect(comments.compactMap { $0["body"] as? String } == ["첫 댓글", "second"])
        }
    }

    @Test("asking again while an export is under way returns the same export", arguments: TestEngine.allCases)
    func oneAtATime(engine: TestEngine) async throws {
        try await withAgora(on: engine) { api in
            let me = try await api.user()
            try await api.services.queue.driver.pause(queue: "exports")
            let first = try await api.post("/api/users/me/export", [:], token: me.accessToken)
            let second = try await api.post("/api/users/me/export", [:], token: me.accessToken)
            #expect(first.json["exportId"].int64 == second.json["exportId"].int64 && second.json["status"].string == "pending")
            try await api.services.queue.driver.resume(queue: "exports")
            let id = try #require(first.json["exportId"].int64)
            #expect(try await eventually { try await api.get("/api/exports/\(id)", token: me.accessToken).json["status"].string == "ready" })
        }
    }

    @Test("exports older than seven days are deleted with their files by the recurring job", arguments: TestEngine.allCases)
    func oldExportsArePruned(engine: TestEngine) async throws {
        try await withAgora(on: engine) { api in
            let me = try await api.user()
            let id = try #require(try await api.post("/api/users/me/export", [:], token: me.accessToken).json["exportId"].int64)
            #expect(try await eventually { try await api.get("/api/exports/\(id)", token: me.accessToken).json["status"].string == "ready" })
            let exports = URL(fileURLWithPath: api.services.settings.dataDirectory).appendingPathComponent("exports")
            #expect(try FileManager.default.contentsOfDirectory(atPath: exports.path).count == 1)
            let eightDaysAgo = Int64(Date().addingTimeInterval(-8 * 24 * 3600).timeIntervalSince1970 * 1000)
            try await api.services.database.transaction { db in
                try await db.raw("UPDATE exports SET created_at = \(bind: eightDaysAgo)").run()
            }
            #expect(api.services.queue.registry.schedules.contains { $0.name == "prune-exports" })
            try await api.services.queue.enqueue(PruneExportsJob())
            #expect(try await eventually { try await api.get("/api/exports/\(id)", token: me.accessToken).status == .notFound })
            #expect(try FileManager.default.contentsOfDirectory(atPath: exports.path).isEmpty)
        }
    }
}
