@testable import App
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import SQLKit
import Storage
import Synchronization
import Testing

/// Two instances of the application on one PostgreSQL database, in this process, each with its
/// own hub and relay: what one stores, removes or notifies reaches the other's sockets.
@Suite("Chat across instances (PostgreSQL)")
struct ChatAcrossInstancesTests {
    /// Runs two live instances on one fresh PostgreSQL database and gives `body` their APIs and
    /// ports. Returns nil when PostgreSQL is not configured.
    @discardableResult
    func twoInstances<T>(_ change: @escaping (inout AppSettings) -> Void = { _ in },
                         _ body: @Sendable (_ a: API, _ aPort: Int, _ b: API, _ bPort: Int) async throws -> T) async throws -> T? {
        let logger = { var logger = Logger(label: "agora-test"); logger.logLevel = .warning; return logger }()
        let settings = testSettings {
            $0.chatHub.presenceGrace = .zero
            change(&$0)
        }
        return try await withTestDatabase(on: .postgres, settings) { settings in
            let first = try await AgoraServices.open(settings: settings, logger: logger)
            let second = try await AgoraServices.open(settings: settings, logger: logger)
            return try await buildApplication(services: first, logger: logger).test(.live) { clientA in
                try await buildApplication(services: second, logger: logger).test(.live) { clientB in
                    try await body(API(client: clientA, services: first), try #require(clientA.port),
                                   API(client: clientB, services: second), try #require(clientB.port))
                }
            }
        } ?? nil
    }

    @Test("messages sent on either instance reach the members on both, each once and in seq order")
    func messagesCrossInstances() async throws {
        try await twoInstances { a, aPort, b, bPort in
            let alice = try await a.user(), bob = try await a.user(), carol = try await a.user()
            let room = try await a.room(by: alice)
            let onA = ChatTestClient(port: aPort, token: alice.accessToken)
            let onB = ChatTestClient(port: bPort, token: bob.accessToken)
            let alsoOnB = ChatTestClient(port: bPort, token: carol.accessToken)
            for client in [onA, onB, alsoOnB] { #expect(try await client.join(room) != nil) }
            let perSender = 25
            for index in 1...perSender {
                try onA.send(["type": "send", "room": room, "body": "a\(index)", "clientMsgId": "a\(index)"])
                try onB.send(["type": "send", "room": room, "body": "b\(index)", "clientMsgId": "b\(index)"])
            }
            for client in [onA, onB, alsoOnB] {
                var seqs: [Int] = []
                var bodies: Set<String> = []
                while seqs.count < 2 * perSender, let message = await client.next("message", within: 30) {
                    seqs.append(message["seq"].int ?? 0)
                    bodies.insert(message["body"].string ?? "")
                }
                #expect(seqs == Array(1...(2 * perSender)), "each message once, in seq order")
                #expect(bodies.count == 2 * perSender)
                #expect(await client.next("message", within: 0.3) == nil, "no repeats")
            }
        }
    }

    @Test("presence is merged over instances: a user online on one is online on the other, and goes offline when they leave")
    func presenceCrossesInstances() async throws {
        try await twoInstances { a, aPort, b, bPort in
            let alice = try await a.user(), bob = try await a.user()
            let room = try await a.room(by: alice)
            #expect(try await a.put("/api/rooms/\(room)/members/\(bob.id)", token: alice.accessToken).status.code < 300)
            let onB = ChatTestClient(port: bPort, token: bob.accessToken)
            try await onB.join(room)
            let onA = ChatTestClient(port: aPort, token: alice.accessToken)
            try await onA.join(room)
            #expect(await onB.presence("joined", naming: alice.id) != nil, "B hears that alice came online on A")
            // The REST listing of either instance counts both users.
            #expect(try await eventually { try await b.get("/api/rooms/\(room)", token: bob.accessToken).json["onlineCount"].int == 2 })
            // A second tab on B changes nothing; alice leaving A is heard on B.
            _ = try await onA.close()
            #expect(await onB.presence("left", naming: alice.id) != nil)
            #expect(try await eventually { try await a.get("/api/rooms/\(room)", token: alice.accessToken).json["onlineCount"].int == 1 })
        }
    }

    @Test("an instance that stops heartbeating is swept: its users go offline on the others within the timeout")
    func deadInstanceIsSwept() async throws {
        try await twoInstances({ $0.chatInstanceTimeout = .milliseconds(1_500) }) { a, aPort, b, bPort in
            let alice = try await a.user(), ghost = try await a.user("ghost")
            let room = try await a.room(by: alice)
            let onB = ChatTestClient(port: bPort, token: alice.accessToken)
            try await onB.join(room)
            // An instance that died without a word: its row and its user's presence, then silence.
            let database = try #require(b.services.database as? PostgresStore)
            try await database.transaction { db in
                try await db.raw("INSERT INTO chat_instances (id, seen_at) VALUES ('dead-one', now())").run()
                try await db.raw("""
                    INSERT INTO chat_presence (instance, room_id, user_id, nickname) VALUES ('dead-one', \(bind: room), \(bind: ghost.id), 'ghost')
                    """).run()
                try await db.raw("SELECT pg_notify('agora_chat', \(bind: "p dead-one \(room) \(ghost.id) 1 ghost"))").run()
            }
            let since = Date()
            #expect(await onB.presence("joined", naming: ghost.id) != nil)
            #expect(await onB.presence("left", naming: ghost.id, within: 15) != nil, "the ghost goes offline")
            // The bound: the timeout plus one heartbeat (a third of it), with room for a loaded machine.
            #expect(Date().timeIntervalSince(since) < 10)
            let left = try await database.read { db in
                try await db.raw("SELECT count(*) AS n FROM chat_presence WHERE instance = 'dead-one'").first(decodingColumn: "n", as: Int.self)
            }
            #expect(left == 0)
            _ = aPort
        }
    }

    @Test("a member removed through one instance stops receiving the room on the other at once")
    func removalCrossesInstances() async throws {
        try await twoInstances { a, aPort, b, bPort in
            let alice = try await a.user(), bob = try await a.user()
            let room = try await a.room(by: alice, visibility: "private")
            #expect(try await a.put("/api/rooms/\(room)/members/\(bob.id)", token: alice.accessToken).status.code < 300)
            let onB = ChatTestClient(port: bPort, token: bob.accessToken)
            try await onB.join(room)
            #expect(try await a.delete("/api/rooms/\(room)/members/\(bob.id)", token: alice.accessToken).status == .noContent)
            let error = await onB.next("error")
            #expect(error?["code"].string == "not_a_member" && error?["room"].int64 == room)
            let onA = ChatTestClient(port: aPort, token: alice.accessToken)
            try await onA.join(room)
            try onA.send(["type": "send", "room": room, "body": "private now", "clientMsgId": "p1"])
            #expect(await onA.next("ack") != nil)
            #expect(await onB.next("message", within: 1) == nil, "bob no longer receives the room")
        }
    }

    @Test("after the listeners' connections drop, each instance reads what it missed: nothing is lost")
    func droppedListenerLosesNothing() async throws {
        try await twoInstances { a, aPort, b, bPort in
            let alice = try await a.user(), bob = try await a.user()
            let room = try await a.room(by: alice)
            let onA = ChatTestClient(port: aPort, token: alice.accessToken)
            let onB = ChatTestClient(port: bPort, token: bob.accessToken)
            try await onA.join(room)
            try await onB.join(room)
            let database = try #require(a.services.database as? PostgresStore)
            try await database.read { db in
                try await db.raw("""
                    SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                    WHERE datname = current_database() AND pid <> pg_backend_pid() AND query ILIKE 'LISTEN%'
                    """).run()
            }
            for index in 1...10 {
                try onA.send(["type": "send", "room": room, "body": "m\(index)", "clientMsgId": "m\(index)"])
            }
            var seqs: [Int] = []
            while seqs.count < 10, let message = await onB.next("message", within: 30) { seqs.append(message["seq"].int ?? 0) }
            #expect(seqs == Array(1...10))
        }
    }

    @Test("a notification for a user connected to another instance is pushed there")
    func notificationsCrossInstances() async throws {
        try await twoInstances { a, aPort, b, bPort in
            let alice = try await a.user(), bob = try await a.user()
            let onB = ChatTestClient(port: bPort, token: alice.accessToken)
            try onB.send(["type": "ping"])
            #expect(await onB.next("pong") != nil)
            #expect(try await a.put("/api/users/\(alice.id)/follow", token: bob.accessToken).status.code < 300)
            let followed = await onB.next("notification")
            #expect(followed?["notification"]["kind"].string == "follow" && followed?["notification"]["actor"]["id"].int64 == bob.id)
            _ = aPort
        }
    }

    @Test("a post changed through one instance is not served from the other's cache: like, comment, edit, rename, deletion")
    func postCacheCrossesInstances() async throws {
        try await twoInstances { a, _, b, _ in
            let alice = try await a.user(), bob = try await a.user()
            let post = try await a.post(by: alice, title: "first title")
            func onB(_ check: @escaping @Sendable (JSON) -> Bool) async throws -> Bool {
                try await eventually(within: 3) { check(try await b.get("/api/posts/\(post)").json) }
            }
            // B caches it (a second read is a hit).
            for _ in 0..<2 { #expect(try await b.get("/api/posts/\(post)").json["title"].string == "first title") }
            _ = try await a.put("/api/posts/\(post)/like", token: bob.accessToken)
            #expect(try await onB { $0["likeCount"].int == 1 })
            _ = try await a.post("/api/posts/\(post)/comments", ["body": "hi"], token: bob.accessToken)
            #expect(try await onB { $0["commentCount"].int == 1 })
            #expect(try await a.patch("/api/posts/\(post)", ["title": "second title"], token: alice.accessToken).status == .ok)
            #expect(try await onB { $0["title"].string == "second title" })
            _ = try await a.patch("/api/users/me", ["nickname": "renamed\(alice.id)"], token: alice.accessToken)
            #expect(try await onB { $0["author"]["nickname"].string == "renamed\(alice.id)" })
            #expect(try await a.delete("/api/posts/\(post)", token: alice.accessToken).status == .noContent)
            #expect(try await eventually(within: 3) { try await b.get("/api/posts/\(post)").status == .notFound })
        }
    }

    @Test("an instance whose listener was cut off forgets its cached posts: it may have missed a change")
    func postCacheAfterDroppedListener() async throws {
        try await twoInstances { a, _, b, _ in
            let alice = try await a.user()
            let post = try await a.post(by: alice, title: "first title")
            for _ in 0..<2 { #expect(try await b.get("/api/posts/\(post)").json["title"].string == "first title") }
            // A change whose notification B missed: written behind the app's back, so B's copy is stale.
            let database = try #require(a.services.database as? PostgresStore)
            try await database.transaction { db in
                try await db.raw("UPDATE posts SET title = 'second title' WHERE id = \(bind: post)").run()
            }
            #expect(try await b.get("/api/posts/\(post)").json["title"].string == "first title")
            try await database.read { db in
                try await db.raw("""
                    SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                    WHERE datname = current_database() AND pid <> pg_backend_pid() AND query ILIKE 'LISTEN%'
                    """).run()
            }
            #expect(try await eventually(within: 10) { try await b.get("/api/posts/\(post)").json["title"].string == "second title" })
        }
    }

    @Test("each chat event survives its payload", arguments: [
        ChatEvent.message(instance: "i-1", room: 7, seq: 42), .memberRemoved(room: 7, user: 3), .accountDeleted(user: 3), .roomClosed(room: 7),
        .notifications(users: [1, 2, 3]), .presence(instance: "i-1", room: 7, user: .init(id: 3, nickname: "two words 🎈"), online: true),
        .presence(instance: "i-1", room: 7, user: .init(id: 3, nickname: "x"), online: false), .presenceRewritten(instance: "i-1"),
        .instanceGone(instance: "i-1"), .postChanged(post: 12), .postChanged(post: nil),
    ])
    func eventPayloads(event: ChatEvent) {
        #expect(ChatEvent(payload: event.payload) == event, "\(event.payload)")
    }

    @Test("a payload this version does not know is ignored", arguments: ["", "m", "m i 1", "m i x 2", "m 1 2", "b", "b x", "z 1", "n ", "p i 1 2 1"])
    func unknownPayloads(payload: String) {
        #expect(ChatEvent(payload: payload) == nil)
    }

    @Test("notifications for many users fit a payload")
    func largestNotificationsPayload() {
        let users = (0..<ChatEvent.usersPerEvent).map { _ in Int64.max }
        #expect(ChatEvent.notifications(users: users).payload.utf8.count < 8_000)
    }
}
