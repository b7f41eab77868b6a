import App
import Foundation
import SQLKit
import Storage
import Testing

@Suite("Notifications")
struct NotificationsTests {
    @Test("a comment, a like and a follow notify the other user once; acting on your own things notifies nobody", arguments: TestEngine.allCases)
    func eventsNotify(engine: TestEngine) async throws {
        try await withAgora(on: engine) { api in
            let author = try await api.user()
            let fan = try await api.user()
            let postID = try await api.post(by: author, title: "첫 글")
            #expect(try await api.post("/api/posts/\(postID)/comments", ["body": "멋져요"], token: fan.accessToken).status == .created)
            for _ in 0..<2 {
                #expect(try await api.put("/api/posts/\(postID)/like", token: fan.accessToken).status == .ok)
                #expect(try await api.delete("/api/posts/\(postID)/like", token: fan.accessToken).status == .ok)
            }
            #expect(try await api.put("/api/users/\(author.id)/follow", token: fan.accessToken).status == .ok)
            #expect(try await api.put("/api/users/\(author.id)/follow", token: fan.accessToken).status == .ok)
            // The author's own comment and like notify nobody.
            #expect(try await api.post("/api/posts/\(postID)/comments", ["body": "thanks"], token: author.accessToken).status == .created)
            #expect(try await api.put("/api/posts/\(postID)/like", token: author.accessToken).status == .ok)

            let page = try await api.get("/api/notifications", token: author.accessToken)
            #expect(page.status == .ok)
            let kinds = page.json["items"].array.compactMap { $0["kind"].string }
            #expect(kinds == ["follow", "like", "comment"], "\(page.body)")
            let like = page.json["items"][1]
            #expect(like["actor"]["id"].int64 == fan.id && like["post"]["id"].int64 == postID && like["post"]["title"].string == "첫 글")
            #expect(like["read"].bool == false)
            #expect(page.json["items"][2]["commentId"].int64 != nil)
            #expect(try await api.get("/api/notifications", token: fan.accessToken).json["items"].array.isEmpty)
            #expect(try await api.get("/api/users/me", token: author.accessToken).json["unreadNotificationCount"].int == 3)
        }
    }

    @Test("a post notifies each of the author's 10,000 followers once, through the queue", arguments: TestEngine.allCases)
    func fanOutToTenThousandFollowers(engine: TestEngine) async throws {
        try await withAgora(on: engine) { api in
            let author = try await api.user()
            let followers = 10_000
            try await api.services.database.transaction { db in
                try await db.raw("""
                    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < \(bind: followers))
                    INSERT INTO users (email, nickname, nickname_key, password_hash, created_at, updated_at)
                    SELECT 'fan' || i || '@fans.test', 'fan' || i, 'fan' || i, 'x', 0, 0 FROM n
                    """).run()
                try await db.raw("""
                    INSERT INTO follows (follower_id, followee_id, created_at)
                    SELECT id, \(bind: author.id), 0 FROM users WHERE email LIKE '%@fans.test'
                    """).run()
            }
            let postID = try await api.post(by: author)
            func count() async throws -> (all: Int, distinct: Int) {
                try await api.services.database.read { db in
                    let row = try await db.raw("""
                        SELECT COUNT(*) AS n, COUNT(DISTINCT user_id) AS d FROM notifications
                        WHERE kind = 'post' AND post_id = \(bind: postID)
                        """).first()
                    return (try row?.decode(column: "n", as: Int.self) ?? 0, try row?.decode(column: "d", as: Int.self) ?? 0)
                }
            }
            #expect(try await eventually(within: 60) { try await count().all >= followers })
            try await Task.sleep(for: .milliseconds(200))
            let final = try await count()
            #expect(final.all == followers && final.distinct == followers)
        }
    }

    @Test("unread filter, pages, and marking read by ids (others' ids ignored) or all", arguments: TestEngine.allCases)
    func listingAndReading(engine: TestEngine) async throws {
        try await withAgora(on: engine) { api in
            let me = try await api.user()
            let other = try await api.user()
            var fans: [TestUser] = []
            for _ in 0..<5 {
                let fan = try await api.user()
                #expect(try await api.put("/api/users/\(me.id)/follow", token: fan.accessToken).status == .ok)
                fans.append(fan)
            }
            #expect(try await api.put("/api/users/\(other.id)/follow", token: fans[0].accessToken).status == .ok)
            let ids = try await api.allPageIDs("/api/notifications?limit=2&x=1", token: me.accessToken)
            #expect(ids.count == 5 && ids == ids.sorted(by: >))
            let othersID = try #require(try await api.get("/api/notifications", token: other.accessToken).json["items"][0]["id"].int64)

            let read = try await api.post("/api/notifications/read", ["ids": [ids[0], ids[1], othersID]], token: me.accessToken)
            #expect(read.status == .ok && read.json["unreadCount"].int == 3, "\(read.body)")
            #expect(try await api.get("/api/notifications", token: other.accessToken).json["items"][0]["read"].bool == false)
            let unread = try await api.get("/api/notifications?unread=true", token: me.accessToken)
            #expect(unread.json["items"].array.compactMap { $0["id"].int64 } == Array(ids[2...]))
            #expect(try await api.post("/api/notifications/read", ["all": true], token: me.accessToken).json["unreadCount"].int == 0)
            #expect(try await api.get("/api/users/me", token: me.accessToken).json["unreadNotificationCount"].int == 0)
        }
    }

    @Test("bad requests: no token, neither ids nor all, too many ids, a bad unread flag", arguments: TestEngine.allCases)
    func badRequests(engine: TestEngine) async throws {
        try await withAgora(on: engine) { api in
            let me = try await api.user()
            expectError(try await api.get("/api/notifications"), .unauthorized)
            expectError(try await api.post("/api/notifications/read", [:], token: me.accessToken), .unprocessableContent)
            expectError(try await api.post("/api/notifications/read", ["ids": [1], "all": true], token: me.accessToken), .unprocessableContent)
            expectError(try await api.post("/api/notifications/read", ["ids": Array(1...101)], token: me.accessToken), .unprocessableContent)
            expectError(try await api.post("/api/notifications/read", ["ids": "1"], token: me.accessToken), .badRequest)
            expectError(try await api.get("/api/notifications?unread=maybe", token: me.accessToken), .unprocessableContent)
        }
    }
}
