@testable import App
import Foundation
import HTTPTypes
import HummingbirdTesting
import HummingbirdWSClient
import NIOCore
import Realtime
import Testing

/// Chat over real WebSockets: the `.live` server and hummingbird-websocket's client.
@Suite("Chat over WebSocket")
struct ChatSocketTests {
    /// Runs `body` against a live server on `engine`; nil when that engine is not configured.
    @discardableResult
    func live<T>(on engine: TestEngine, _ change: (inout AppSettings) -> Void = { _ in }, _ body: @Sendable (API, Int) async throws -> T) async throws -> T? {
        try await withAgora(on: engine, testSettings(change), framework: .live) { api in
            try await body(api, try #require(api.client.port))
        }
    }

    @Test("two users chat in Korean and emoji; the sender gets the message and an ack with its seq", arguments: TestEngine.allCases)
    func koreanAndEmoji(engine: TestEngine) async throws {
        try await live(on: engine) { api, port in
            let alice = try await api.user("앨리스"), bob = try await api.user("Bob 🎈")
            let room = try await api.room(by: alice)
            let a = ChatTestClient(port: port, token: alice.accessToken)
            let b = ChatTestClient(port: port, token: bob.accessToken, header: true)
            let joined = try await a.join(room)
            #expect(joined?["lastSeq"].int == 0)
            // Bob joins the public room by the frame alone, and becomes a member.
            #expect(try await b.join(room)?["members"].array.count == 2)
            #expect(try await api.services.rooms.isMember(room: room, user: bob.id))
            let body = "안녕하세요! 반가워요 👋🏽🇰🇷 — ça va?"
            try a.send(["type": "send", "room": room, "body": body, "clientMsgId": "m-1"])
            let ack = await a.next("ack")
            #expect(ack?["seq"].int == 1 && ack?["clientMsgId"].string == "m-1" && ack?["room"].int64 == room)
            let message = await b.next("message")
            #expect(message?["body"].string == body && message?["seq"].int == 1 && message?["id"].int64 != nil)
            #expect(message?["sender"]["id"].int64 == alice.id && message?["sender"]["nickname"].string == "앨리스")
            #expect(message?["sentAt"].string?.hasSuffix("Z") == true && message?["clientMsgId"].string == "m-1")
            #expect(await a.next("message")?["body"].string == body)
            try b.send(["type": "send", "room": room, "body": "👍"])
            #expect(await a.next("message")?["sender"]["nickname"].string == "Bob 🎈")
            #expect(await b.next("ack")?["seq"].int == 2)
            // The REST history has the same messages.
            #expect(try await api.historySeqs(room, token: bob.accessToken) == [1, 2])
            #expect(try await a.close()?.closeCode == .normalClosure)
            _ = try await b.close()
        }
    }

    @Test("rooms never share messages, typing or presence", arguments: TestEngine.allCases)
    func roomsIsolated(engine: TestEngine) async throws {
        try await live(on: engine) { api, port in
            let alice = try await api.user(), bob = try await api.user(), carol = try await api.user()
            let one = try await api.room(by: alice, name: "One"), two = try await api.room(by: bob, name: "Two")
            let a = ChatTestClient(port: port, token: alice.accessToken)
            let b = ChatTestClient(port: port, token: bob.accessToken)
            let c = ChatTestClient(port: port, token: carol.accessToken)
            try await a.join(one)
            try await b.join(two)
            let joinedOne = try await c.join(one)
            #expect(Set(joinedOne?["members"].array.compactMap { $0["id"].int64 } ?? []) == [alice.id, carol.id])
            #expect(joinedOne?["members"].array.first(where: { $0["id"].int64 == alice.id })?["online"].bool == true)
            try a.send(["type": "typing", "room": one])
            try a.send(["type": "send", "room": one, "body": "only in one"])
            try b.send(["type": "send", "room": two, "body": "only in two"])
            #expect(await c.next("message")?["body"].string == "only in one")
            #expect(await c.next("typing")?["user"]["id"].int64 == alice.id)
            #expect(await b.next("message")?["body"].string == "only in two")
            #expect(await a.next("ack") != nil && b.frames.allSatisfy { $0["room"].int64 != one })
            #expect(a.frames.allSatisfy { $0["room"].int64 != two } && c.frames.allSatisfy { $0["room"].int64 != two })
            #expect(api.services.chatHub.onlineUsers(in: one) == [alice.id, carol.id])
            #expect(api.services.chatHub.onlineUsers(in: two) == [bob.id])
            let listed = try await api.get("/api/rooms/\(one)", token: alice.accessToken)
            #expect(listed.json["onlineCount"].int == 2)
        }
    }

    @Test("two tabs count once; the user goes offline only after the last one drops and the grace period ends", arguments: TestEngine.allCases)
    func presenceWithTwoTabs(engine: TestEngine) async throws {
        try await live(on: engine, { $0.chatHub.presenceGrace = .milliseconds(300) }) { api, port in
            let alice = try await api.user(), bob = try await api.user()
            let room = try await api.room(by: alice)
            let a = ChatTestClient(port: port, token: alice.accessToken)
            try await a.join(room)
            let tab1 = ChatTestClient(port: port, token: bob.accessToken)
            let tab2 = ChatTestClient(port: port, token: bob.accessToken)
            try await tab1.join(room)
            #expect(await a.presence("joined", naming: bob.id) != nil)
            try await tab2.join(room)
            _ = try await tab1.close()
            try await Task.sleep(for: .milliseconds(600))
            #expect(api.services.chatHub.onlineUsers(in: room) == [alice.id, bob.id])
            _ = try await tab2.close()
            #expect(await a.presence("left", naming: bob.id) != nil)
            let aboutBob = a.frames.filter { frame in
                frame["type"].string == "presence" && (frame["joined"].array + frame["left"].array).contains { $0["id"].int64 == bob.id }
            }
            #expect(aboutBob.count == 2, "one joined, one left: \(a.frames)")
            #expect(api.services.chatHub.onlineUsers(in: room) == [alice.id])
        }
    }

    @Test("a client that rejoins with since gets every message after it, with no gap and no duplicate, while a third keeps sending", arguments: TestEngine.allCases)
    func resumeWhileOthersSend(engine: TestEngine) async throws {
        try await live(on: engine, { $0.chatSocket.limits.perSecond = 1_000; $0.chatSocket.limits.burst = 1_000 }) { api, port in
            let alice = try await api.user(), bob = try await api.user(), carol = try await api.user()
            let room = try await api.room(by: alice)
            let sender = ChatTestClient(port: port, token: carol.accessToken)
            try await sender.join(room)
            let total = 300
            let sending = Task {
                for n in 1...total {
                    try sender.send(["type": "send", "room": room, "body": "n\(n)", "clientMsgId": "c\(n)"])
                    if n % 10 == 0 { try await Task.sleep(for: .milliseconds(5)) }
                }
            }
            var seen: [Int64] = []
            for round in 0..<3 {
                let reader = ChatTestClient(port: port, token: bob.accessToken)
                try await reader.join(room, since: seen.last ?? 0)
                // Read a while, then drop the connection mid-stream.
                try await Task.sleep(for: .milliseconds(round == 2 ? 0 : 150))
                if round == 2 {
                    try await sending.value
                    // Every send is a transaction; on a loaded machine (and on PostgreSQL, a few
                    // round trips each) the last ones may be stored seconds after they were written.
                    #expect(await eventuallyTrue(within: 60) { reader.frames.filter { $0["type"].string == "message" }.last?["seq"].int == total })
                }
                seen += reader.frames.filter { $0["type"].string == "message" }.compactMap { $0["seq"].int64 }
                _ = try await reader.close()
            }
            #expect(seen == Array(1...Int64(total)), "gaps or duplicates: \(seen.count) seen")
            _ = alice
        }
    }

    @Test("a resent send with the same clientMsgId is stored once and acknowledged again with the same seq", arguments: TestEngine.allCases)
    func resendIsDeduplicated(engine: TestEngine) async throws {
        try await live(on: engine) { api, port in
            let alice = try await api.user(), bob = try await api.user()
            let room = try await api.room(by: alice)
            let a = ChatTestClient(port: port, token: alice.accessToken)
            let b = ChatTestClient(port: port, token: bob.accessToken)
            try await a.join(room)
            try await b.join(room)
            for _ in 0..<3 { try a.send(["type": "send", "room": room, "body": "once", "clientMsgId": "same"]) }
            try a.send(["type": "send", "room": room, "body": "next", "clientMsgId": "other"])
            #expect(await a.next("ack")?["seq"].int == 1)
            #expect(await a.next("ack")?["seq"].int == 1)
            #expect(await a.next("ack")?["seq"].int == 1)
            #expect(await a.next("ack")?["seq"].int == 2)
            _ = await b.next("message"); _ = await b.next("message")
            #expect(b.frames.filter { $0["type"].string == "message" }.compactMap { $0["seq"].int } == [1, 2])
            #expect(try await api.count("chat_messages", where: "room_id = \(room)") == 2)
        }
    }

    @Test("the sender is the token's user whatever the frame says", arguments: TestEngine.allCases)
    func forgedSenderIgnored(engine: TestEngine) async throws {
        try await live(on: engine) { api, port in
            let alice = try await api.user(), mallory = try await api.user()
            let room = try await api.room(by: alice)
            let m = ChatTestClient(port: port, token: mallory.accessToken)
            try await m.join(room)
            try m.send(["type": "send", "room": room, "body": "I am alice", "sender": ["id": alice.id, "nickname": alice.nickname],
                        "senderId": alice.id, "userId": alice.id])
            #expect(await m.next("ack") != nil)
            let message = await m.next("message")
            #expect(message?["sender"]["id"].int64 == mallory.id && message?["sender"]["nickname"].string == mallory.nickname)
            let stored = try await api.get("/api/rooms/\(room)/messages", token: alice.accessToken)
            #expect(stored.json["items"][0]["sender"]["id"].int64 == mallory.id)
        }
    }

    @Test("no token or a bad one is refused with 401 before the upgrade; private rooms and rooms not joined answer error frames", arguments: TestEngine.allCases)
    func unauthorised(engine: TestEngine) async throws {
        try await live(on: engine) { api, port in
            let alice = try await api.user(), bob = try await api.user()
            /// The answer to an upgrade request on a new connection.
            func upgrade(_ path: String, authorization: String? = nil, until end: String = "}}") async throws -> String {
                let socket = try RawSocket(port: UInt16(port))
                defer { socket.close() }
                try socket.send("GET \(path) HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                                + "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                                + (authorization.map { "Authorization: \($0)\r\n" } ?? "") + "\r\n")
                return try await offCooperativePool { socket.receiveAll(until: end) }
            }
            for (path, authorization) in [("/ws", nil), ("/ws?token=nope", nil), ("/ws?token=\(alice.accessToken)x", nil),
                                          ("/ws", "Bearer \(alice.accessToken)x"), ("/ws", "Basic abc")] {
                let refused = try await upgrade(path, authorization: authorization)
                #expect(refused.hasPrefix("HTTP/1.1 401"), "\(path): \(refused)")
                #expect(refused.contains(#"{"error":{"code":"#), "\(path): \(refused)")
            }
            #expect(try await upgrade("/elsewhere?token=\(alice.accessToken)").hasPrefix("HTTP/1.1 404"))
            #expect(try await upgrade("/ws", authorization: "Bearer \(alice.accessToken)", until: "\r\n\r\n").hasPrefix("HTTP/1.1 101"))
            // Without the upgrade, /ws says what it is.
            #expect(try await api.get("/ws").status == .unauthorized)
            #expect(try await api.get("/ws", token: alice.accessToken).status.code == 426)

            let secret = try await api.room(by: alice, visibility: "private")
            let open = try await api.room(by: alice, name: "Open")
            let b = ChatTestClient(port: port, token: bob.accessToken)
            try b.send(["type": "join", "room": secret])
            #expect(await b.next("error")?["code"].string == "not_found")
            try b.send(["type": "send", "room": open, "body": "hi"])
            #expect(await b.next("error")?["code"].string == "not_a_member")
            try b.send(["type": "typing", "room": open])
            #expect(await b.next("error")?["code"].string == "not_joined")
            try b.send(["type": "join", "room": 99_999])
            #expect(await b.next("error")?["room"].int == 99_999)
            #expect(try await api.count("chat_messages", where: "1 = 1") == 0)
        }
    }

    @Test("oversize bodies and malformed frames answer error frames and keep the connection; a frame over 64 KiB closes with 1009", arguments: TestEngine.allCases)
    func oversizeAndMalformed(engine: TestEngine) async throws {
        try await live(on: engine) { api, port in
            let alice = try await api.user()
            let room = try await api.room(by: alice)
            let a = ChatTestClient(port: port, token: alice.accessToken)
            try await a.join(room)
            try a.send(["type": "send", "room": room, "body": String(repeating: "가", count: 6_000)])
            #expect(await a.next("error")?["code"].string == "too_large")
            a.send(text: "{not json")
            #expect(await a.next("error")?["code"].string == "malformed")
            a.send(text: #"{"type":"dance","room":1}"#)
            #expect(await a.next("error")?["code"].string == "unknown_type")
            a.send(text: #"{"type":"send","room":"one","body":"x"}"#)
            #expect(await a.next("error")?["code"].string == "malformed")
            a.send(text: #"{"type":"send","body":"x"}"#)
            #expect(await a.next("error")?["code"].string == "invalid")
            a.send(text: "[]")
            #expect(await a.next("error")?["code"].string == "malformed")
            try a.send(["type": "ping"])
            #expect(await a.next("pong") != nil)
            try a.send(["type": "send", "room": room, "body": "still here"])
            #expect(await a.next("ack")?["seq"].int == 1)
            a.send(text: String(repeating: "x", count: 70_000))
            #expect(try await a.closedByServer()?.closeCode == .messageTooLarge)
        }
    }

    @Test("past the rate limit a frame is refused with rate_limited", arguments: TestEngine.allCases)
    func rateLimited(engine: TestEngine) async throws {
        try await live(on: engine, { $0.chatSocket.limits.burst = 5; $0.chatSocket.limits.perSecond = 1 }) { api, port in
            let alice = try await api.user()
            let room = try await api.room(by: alice)
            let a = ChatTestClient(port: port, token: alice.accessToken)
            try await a.join(room)
            for n in 0..<8 { try a.send(["type": "send", "room": room, "body": "m\(n)"]) }
            #expect(await a.next("error")?["code"].string == "rate_limited")
            #expect(try await api.count("chat_messages", where: "room_id = \(room)") == 4)
        }
    }

    @Test("a reader that never reads is closed as a slow consumer; the others get every message, unslowed", arguments: TestEngine.allCases)
    func slowReaderDisconnected(engine: TestEngine) async throws {
        try await live(on: engine, {
            // 128 frames of 8 KB: far less than the 800 sent, so the reader that never reads
            // overflows, and room enough for a reader that reads on a busy machine (CI) not to.
            $0.chatHub.outboundQueueLimit = 128
            $0.chatHub.presenceGrace = .milliseconds(100)
            $0.chatSocket.closeTimeout = .milliseconds(300)
        }) { api, port in
            let alice = try await api.user(), bob = try await api.user(), slowpoke = try await api.user()
            let room = try await api.room(by: alice)
            let fast = ChatTestClient(port: port, token: bob.accessToken)
            try await fast.join(room)
            // The slow reader: a raw socket with a tiny receive buffer that never reads after the handshake.
            let slow = try RawSocket(port: UInt16(port), receiveBuffer: 4_096)
            defer { slow.close() }
            try slow.send("GET /ws?token=\(slowpoke.accessToken) HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n"
                          + "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
            try slow.sendMaskedText(#"{"type":"join","room":\#(room)}"#)
            #expect(await eventuallyTrue { api.services.chatHub.onlineUsers(in: room).contains(slowpoke.id) })
            let body = String(repeating: "z", count: 8_000)
            let total = 800
            for n in 1...total { try await api.send("\(n) \(body)", to: room, by: alice) }
            #expect(await eventuallyTrue(within: 30) { fast.frames.filter { $0["type"].string == "message" }.count == total })
            let seqs = fast.frames.filter { $0["type"].string == "message" }.compactMap { $0["seq"].int }
            #expect(seqs == Array(1...total))
            #expect(await eventuallyTrue { !api.services.chatHub.onlineUsers(in: room).contains(slowpoke.id) })
        }
    }

    @Test("a peer that stops answering the server's pings is closed; one that answers stays", arguments: TestEngine.allCases)
    func deadPeerClosed(engine: TestEngine) async throws {
        try await live(on: engine, {
            // Long enough that a loaded test machine's client still answers in time.
            $0.chatSocket.pingInterval = .milliseconds(1500)
            $0.chatHub.presenceGrace = .milliseconds(100)
        }) { api, port in
            let alice = try await api.user(), ghost = try await api.user()
            let room = try await api.room(by: alice)
            // Answers pings: hummingbird-websocket's client replies with pongs by itself.
            let a = ChatTestClient(port: port, token: alice.accessToken)
            try await a.join(room)
            // Never reads after the handshake, so never answers a ping.
            let dead = try RawSocket(port: UInt16(port))
            defer { dead.close() }
            try dead.send("GET /ws?token=\(ghost.accessToken) HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n"
                          + "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
            try dead.sendMaskedText(#"{"type":"join","room":\#(room)}"#)
            #expect(await eventuallyTrue { api.services.chatHub.onlineUsers(in: room).contains(ghost.id) })
            #expect(await eventuallyTrue(within: 15) { !api.services.chatHub.isConnected(ghost.id) })
            #expect(api.services.chatHub.isConnected(alice.id))
            try a.send(["type": "ping"])
            #expect(await a.next("pong") != nil)
        }
    }

    @Test("a member removed by the owner, or leaving through REST, stops receiving at once", arguments: TestEngine.allCases)
    func removalStopsDelivery(engine: TestEngine) async throws {
        try await live(on: engine) { api, port in
            let alice = try await api.user(), bob = try await api.user(), carol = try await api.user()
            let room = try await api.room(by: alice)
            let a = ChatTestClient(port: port, token: alice.accessToken)
            let b = ChatTestClient(port: port, token: bob.accessToken)
            let c = ChatTestClient(port: port, token: carol.accessToken)
            try await a.join(room); try await b.join(room); try await c.join(room)
            #expect(try await api.delete("/api/rooms/\(room)/members/\(bob.id)", token: alice.accessToken).status == .noContent)
            #expect(await b.next("error")?["code"].string == "not_a_member")
            #expect(try await api.delete("/api/rooms/\(room)/members/\(carol.id)", token: carol.accessToken).status == .noContent)
            #expect(await c.next("error")?["code"].string == "not_a_member")
            try a.send(["type": "send", "room": room, "body": "members only"])
            #expect(await a.next("message")?["body"].string == "members only")
            try b.send(["type": "ping"]); try c.send(["type": "ping"])
            #expect(await b.next("pong") != nil)
            #expect(await c.next("pong") != nil)
            #expect(b.frames.allSatisfy { $0["type"].string != "message" } && c.frames.allSatisfy { $0["type"].string != "message" })
            try b.send(["type": "send", "room": room, "body": "still here?"])
            #expect(await b.next("error")?["code"].string == "not_a_member")
        }
    }

    @Test("a deleted account's sockets close with 4001 and it goes offline at once; the rooms it owned close for everyone", arguments: TestEngine.allCases)
    func deletedAccount(engine: TestEngine) async throws {
        try await live(on: engine, { $0.chatHub.presenceGrace = .seconds(60) }) { api, port in
            let alice = try await api.user(), bob = try await api.user()
            let bobs = try await api.room(by: bob, name: "Bob's"), alices = try await api.room(by: alice, name: "Alice's")
            let a = ChatTestClient(port: port, token: alice.accessToken)
            let b = ChatTestClient(port: port, token: bob.accessToken)
            try await a.join(bobs); try await a.join(alices)
            try await b.join(bobs); try await b.join(alices)
            #expect(try await api.delete("/api/users/me", token: bob.accessToken).status == .noContent)
            #expect(try await b.closedByServer(within: 10)?.closeCode == .unknown(4001))
            // Offline now, not after the 60 s grace; the room Bob owned is gone for Alice.
            #expect(await a.presence("left", naming: bob.id) != nil)
            #expect(api.services.chatHub.onlineUsers(in: alices) == [alice.id])
            let closed = await a.next("error")
            #expect(closed?["code"].string == "not_found" && closed?["room"].int64 == bobs)
            #expect(!api.services.chatHub.isConnected(bob.id))
            try a.send(["type": "send", "room": bobs, "body": "anyone?"])
            #expect(await a.next("error")?["room"].int64 == bobs)
            try a.send(["type": "send", "room": alices, "body": "still mine"])
            #expect(await a.next("message")?["body"].string == "still mine")
        }
    }

    @Test("notifications arrive live on the same connection, with the unread count", arguments: TestEngine.allCases)
    func liveNotifications(engine: TestEngine) async throws {
        try await live(on: engine) { api, port in
            let alice = try await api.user(), bob = try await api.user()
            let a = ChatTestClient(port: port, token: alice.accessToken)
            try a.send(["type": "ping"])
            #expect(await a.next("pong") != nil)
            #expect(try await api.put("/api/users/\(alice.id)/follow", token: bob.accessToken).status.code < 300)
            let followed = await a.next("notification")
            #expect(followed?["notification"]["kind"].string == "follow" && followed?["unreadCount"].int == 1)
            #expect(followed?["notification"]["actor"]["id"].int64 == bob.id)
            let post = try await api.post(by: alice)
            #expect(try await api.post("/api/posts/\(post)/comments", ["body": "좋아요 👍"], token: bob.accessToken).status == .created)
            let commented = await a.next("notification")
            #expect(commented?["notification"]["kind"].string == "comment" && commented?["unreadCount"].int == 2)
            #expect(commented?["notification"]["post"]["id"].int64 == post)
        }
    }

    @Test("on shutdown every socket is closed with 1001 after what it sent is stored and acknowledged", arguments: TestEngine.allCases)
    func shutdownClosesWithGoingAway(engine: TestEngine) async throws {
        let ended = try await live(on: engine) { api, port in
            let alice = try await api.user()
            let room = try await api.room(by: alice)
            let a = ChatTestClient(port: port, token: alice.accessToken)
            try await a.join(room)
            try a.send(["type": "send", "room": room, "body": "last words", "clientMsgId": "bye"])
            return (a, room)
        }
        guard let (client, room) = ended else { return }
        #expect(try await client.closedByServer()?.closeCode == .goingAway)
        // Whatever was acknowledged before the close was stored first (the ack follows the commit).
        let acks = client.frames.filter { $0["type"].string == "ack" }
        #expect(acks.allSatisfy { $0["room"].int64 == room && $0["seq"].int == 1 })
    }
}
