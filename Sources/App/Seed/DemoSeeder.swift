import Storage

/// Deterministic demo data: the same arguments always give the same users, posts and comments.
///
/// Users are `user<i>@example.com` with nickname `user<i>`, all verified and sharing
/// `DemoSeeder.password`; posts and comments are spread over them round-robin.
public struct DemoSeeder: Sendable {
    public static let password = "agora-demo-password"
    static let tagPool = ["swift", "server", "sqlite", "queue", "chat", "design", "testing", "performance", "한국어", "news",
                          "help", "showcase", "events", "jobs", "random"]

    public struct DatabaseNotEmpty: Error, CustomStringConvertible {
        public let users: Int
        public var description: String { "The database already has \(users) users; pass --force to seed anyway." }
    }

    public struct Result: Sendable { public var users, posts, comments: Int }

    let services: AgoraServices

    public init(services: AgoraServices) { self.services = services }

    public func seed(users userCount: Int, posts postCount: Int, comments commentCount: Int, force: Bool) async throws -> Result {
        let database = services.database
        let users = services.repositories.users, posts = services.repositories.posts, comments = services.repositories.comments
        let existing = try await database.read { db in try await users.count(on: db) }
        if existing > 0 && !force { throw DatabaseNotEmpty(users: existing) }
        // Every seeded user has the same password, so one hash serves them all.
        let hash = try await services.hasher.hash(Self.password)
        let start = Timestamp(milliseconds: 1_767_225_600_000) // 2026-01-01T00:00:00Z
        let batch = 1000

        var userIDs: [Int64] = []
        for first in stride(from: 1, through: userCount, by: batch) {
            let last = min(userCount, first + batch - 1)
            userIDs += try await database.transaction { db in
                var ids: [Int64] = []
                for i in first...last {
                    // With --force, numbering continues after the accounts already there.
                    let n = existing + i
                    let user = NewUser(email: "user\(n)@example.com", nickname: "user\(n)",
                                       passwordHash: hash, emailVerified: true, createdAt: start.adding(.seconds(i)))
                    ids.append(try await users.insert(user, on: db).id)
                }
                return ids
            }
        }
        guard !userIDs.isEmpty else { return Result(users: 0, posts: 0, comments: 0) }

        var postIDs: [Int64] = []
        let category = services.settings.categories.first ?? "general"
        for first in stride(from: 0, to: postCount, by: batch) {
            let last = min(postCount, first + batch) - 1
            let authorIDs = userIDs
            postIDs += try await database.transaction { db in
                var ids: [Int64] = []
                for j in first...last {
                    let tags = (0..<(j % 4)).map { Self.tagPool[(j * 7 + $0 * 3) % Self.tagPool.count] }
                    let post = NewPost(authorID: authorIDs[j % authorIDs.count], title: "Demo post \(j + 1)",
                                       body: "This is demo post number \(j + 1). Agora seeds it for trying and benchmarking.",
                                       category: category, tags: Array(Set(tags)).sorted(),
                                       createdAt: start.adding(.seconds(100_000 + j)))
                    ids.append(try await posts.insert(post, on: db).id)
                }
                return ids
            }
        }

        if !postIDs.isEmpty {
            for first in stride(from: 0, to: commentCount, by: batch) {
                let last = min(commentCount, first + batch) - 1
                let authorIDs = userIDs, targets = postIDs
                try await database.transaction { db in
                    for k in first...last {
                        _ = try await comments.insert(postID: targets[(k * 31) % targets.count], authorID: authorIDs[(k * 13) % authorIDs.count],
                                                      body: "Demo comment \(k + 1).", at: start.adding(.seconds(200_000 + k)), on: db)
                    }
                }
            }
        }
        try await services.searchIndexer.catchUp()
        return Result(users: userIDs.count, posts: postIDs.count, comments: postIDs.isEmpty ? 0 : commentCount)
    }
}
