import App
import Foundation
import Realtime
import SQLKit
import Storage
import Testing

extension API {
    /// Creates a room as `user` and returns its id.
    func room(by user: TestUser, name: String = "A room", topic: String? = nil, visibility: String = "public") async throws -> Int64 {
        var body: [String: Any] = ["name": name, "visibility": visibility]
        if let topic { body["topic"] = topic }
        let reply = try await post("/api/rooms", body, token: user.accessToken)
        #expect(reply.status == .created, "create room: \(reply.body)")
        return reply.json["id"].int64 ?? 0
    }

    /// Sends `body` to `room` as `user`, through the service the WebSocket layer uses.
    @discardableResult
    func send(_ body: String, to room: Int64, by user: TestUser, clientMsgId: String? = nil) async throws -> RoomService.Appended {
        try await services.rooms.append(body, clientMsgId: clientMsgId, to: room, from: user.id)
    }

    /// The seqs of a `GET /api/rooms/{id}/messages` answer, in order.
    func historySeqs(_ room: Int64, _ query: String = "", token: String) async throws -> [Int64] {
        let reply = try await get("/api/rooms/\(room)/messages\(query)", token: token)
        #expect(reply.status == .ok, "history \(query): \(reply.body)")
        return reply.json["items"].array.compactMap { $0["seq"].int64 }
    }

    /// How many rows of `table` match `condition` (a trusted SQL fragment of the test).
    func count(_ table: String, where condition: String) async throws -> Int {
        try await services.database.read { db in
            try await db.raw("SELECT COUNT(*) AS n FROM \(unsafeRaw: table) WHERE \(unsafeRaw: condition)")
                .first()?.decode(column: "n", as: Int.self) ?? -1
        }
    }
}

/// Expects `body` to throw `expected`.
func expectServiceError(_ expected: ServiceError, sourceLocation: SourceLocation = #_sourceLocation,
                        _ body: () async throws -> Void) async {
    do {
        try await body()
        Issue.record("expected \(expected), nothing was thrown", sourceLocation: sourceLocation)
    } catch let error as ServiceError {
        #expect(error == expected, sourceLocation: sourceLocation)
    } catch {
        Issue.record("expected \(expected), got \(error)", sourceLocation: sourceLocation)
    }
}

@Suite("Chat rooms")
struct RoomsTests {
    @Test("a created room is owned by its creator, who is its only member", arguments: TestEngine.allCases)
    func create(engine: TestEngine) async throws {
        try await withAgora(on: engine) { api in
            let alice = try await api.user()
            let reply = try await api.post("/api/rooms", ["name": "  Lobby  ", "topic": "Say hi", "visibility": "public"],
                                           token: alice.accessToken)
            #expect(reply.status == .created, "\(reply.body)")
            let room = reply.json
            #expect(room["name"].string == "Lobby" && room["topic"].string == "Say hi" && room["visibility"].string == "public")
            #expect(room["ownerId"].int64 == alice.id && room["memberCount"].int == 1 && room["onlineCount"].int == 0)
            #expect(room["lastSeq"].int == 0 && room["isMember"].bool == true)
            #expect(room["createdAt"].string?.hasSuffix("Z") == true)
            let id = try #require(room["id"].int64)
            let shown = try await api.get("/api/rooms/\(id)", token: alice.accessToken)
            #expect(shown.status == .ok && shown.json["name"].string == "Lobby" && shown.json["memberCount"].int == 1)

            let secret = try await api.post("/api/rooms", ["name": "Back office", "visibility": "private"], token: alice.accessToken)
            #expect(secret.status == .created && secret.json["visibility"].string == "private" && secret.json["topic"].string == "")
            #expect(try await api.services.rooms.members(of: id) == [ChatUser(id: alice.id, nickname: alice.nickname)])
        }
    }

    @Test("the list shows public rooms and the caller's private rooms, newest first, in pages; never others' private rooms", arguments: TestEngine.allCases)
    func list(engine: TestEngine) async throws {
        try await withAgora(on: engine) { api in
            let alice = try await api.user(), bob = try await api.user()
            let lobby = try await api.room(by: alice, name: "Lobby")
            let alicePrivate = try await api.room(by: alice, name: "Alice only", visibility: "private")
            let bobPrivate = try await api.room(by: bob, name: "Bob only", visibility: "private")
            let news = try await api.room(by: bob, name: "News")

            #expect(try await api.allPageIDs("/api/rooms?limit=100", token: alice.accessToken) == [news, alicePrivate, lobby])
            #expect(try await api.allPageIDs("/api/rooms?limit=1", token: bob.accessToken) == [news, bobPrivate, lobby])
            let first = try await api.get("/api/rooms?limit=2", token: bob.accessToken)
            #expect(first.json["items"].array.map { $0["isMember"].bool } == [true, true])
            #expect(first.json["nextCursor"].string != nil)
            // Once added, a private room is listed to its new member.
            #expect(try await api.put("/api/rooms/\(alicePrivate)/members/\(bob.id)", token: alice.accessToken).status == .ok)
            #expect(try await api.allPageIDs("/api/rooms?limit=2", token: bob.accessToken) == [news, bobPrivate, alicePrivate, lobby])

            expectError(try await api.get("/api/rooms"), .unauthorized, "unauthorized")
            expectError(try await api.get("/api/rooms?limit=0", token: bob.accessToken), .unprocessableContent, "validation_failed")
            expectError(try await api.get("/api/rooms?cursor=nonsense", token: bob.accessToken), .unprocessableContent)
        }
    }

    @Test("a private room does not exist for outsiders: show, history, join and leave answer 404", arguments: TestEngine.allCases)
    func privateRoomsAreHidden(engine: TestEngine) async throws {
        try await withAgora(on: engine) { api in
            let owner = try await api.user(), outsider = try await api.user()
            let room = try await api.room(by: owner, visibility: "private")
            try await api.send("secret", to: room, by: owner)
            expectError(try await api.get("/api/rooms/\(room)", token: outsider.accessToken), .notFound, "not_found")
            expectError(try await api.get("/api/rooms/\(room)/messages", token: outsider.accessToken), .notFound, "not_found")
            expectError(try await api.put("/api/rooms/\(room)/members/\(outsider.id)", token: outsider.accessToken), .notFound)
            expectError(try await api.delete("/api/rooms/\(room)/members/\(outsider.id)", token: outsider.accessToken), .notFound)
            expectError(try await api.put("/api/rooms/\(room)/members/\(owner.id)", token: outsider.accessToken), .notFound)
            // The same answer as for a room that never existed.
            let missing = try await api.get("/api/rooms/999999", token: outsider.accessToken)
            let hidden = try await api.get("/api/rooms/\(room)", token: outsider.accessToken)
            #expect(missing.body == hidden.body)
            #expect(try await api.services.rooms.canRead(room: room, user: outsider.id) == false)
            #expect(try await api.services.rooms.canRead(room: room, user: owner.id) == true)
            await expectServiceError(.notFound("The room")) { try await api.send("hello?", to: room, by: outsider) }
        }
    }

    @Test("anyone joins and leaves a public room, idempotently; the owner cannot leave", arguments: TestEngine.allCases)
    func joinAndLeave(engine: TestEngine) async throws {
        try await withAgora(on: engine) { api in
            let owner = try await api.user(), bob = try await api.user()
            let room = try await api.room(by: owner)
            let shown = try await api.get("/api/rooms/\(room)", token: bob.accessToken)
            #expect(shown.status == .ok && shown.json["isMember"].bool == false)
            #expect(try await api.services.rooms.canRead(room: room, user: bob.id))
            for _ in 0..<2 {
                let joined = try await api.put("/api/rooms/\(room)/members/\(bob.id)", token: bob.accessToken)
                #expect(joined.status == .ok, "\(joined.body)")
                #expect(joined.json["isMember"].bool == true && joined.json["memberCount"].int == 2)
            }
            #expect(try await api.services.rooms.isMember(room: room, user: bob.id))
            #expect(try await api.services.rooms.members(of: room).map(\.id) == [owner.id, bob.id])
            for _ in 0..<2 {
                #expect(try await api.delete("/api/rooms/\(room)/members/\(bob.id)", token: bob.accessToken).status == .noContent)
            }
            #expect(try await api.services.rooms.isMember(room: room, user: bob.id) == false)
            #expect(try await api.get("/api/rooms/\(room)", token: bob.accessToken).json["memberCount"].int == 1)
            expectError(try await api.delete("/api/rooms/\(room)/members/\(owner.id)", token: owner.accessToken),
                        .conflict, "owner_cannot_leave")
            #expect(try await api.services.rooms.isMember(room: room, user: owner.id))
        }
    }

    @Test("only the owner adds and removes others; members see 403, outsiders of a private room 404", arguments: TestEngine.allCases)
    func ownerManagesMembers(engine: TestEngine) async throws {
        try await withAgora(on: engine) { api in
            let owner = try await api.user(), bob = try await api.user(), carol = try await api.user()
            let club = try await api.room(by: owner, visibility: "private")
            let added = try await api.put("/api/rooms/\(club)/members/\(bob.id)", token: owner.accessToken)
            #expect(added.status == .ok && added.json["memberCount"].int == 2 && added.json["isMember"].bool == true)
            #expect(try await api.get("/api/rooms/\(club)", token: bob.accessToken).status == .ok)
            // Bob sees the room but may not add or remove anyone else.
            expectError(try await api.put("/api/rooms/\(club)/members/\(carol.id)", token: bob.accessToken), .forbidden, "forbidden")
            expectError(try await api.delete("/api/rooms/\(club)/members/\(owner.id)", token: bob.accessToken), .forbidden)
            // Carol does not see it at all.
            expectError(try await api.put("/api/rooms/\(club)/members/\(bob.id)", token: carol.accessToken), .notFound)
            expectError(try await api.delete("/api/rooms/\(club)/members/\(bob.id)", token: carol.accessToken), .notFound)

            expectError(try await api.put("/api/rooms/\(club)/members/999999", token: owner.accessToken), .notFound, "not_found")
            expectError(try await api.put("/api/rooms/\(club)/members/abc", token: owner.accessToken), .notFound)
            expectError(try await api.put("/api/rooms/abc/members/\(bob.id)", token: owner.accessToken), .notFound)
            expectError(try await api.put("/api/rooms/0/members/\(bob.id)", token: owner.accessToken), .notFound)
            expectError(try await api.delete("/api/rooms/\(club)/members/99999999999999999999", token: owner.accessToken), .notFound)

            #expect(try await api.delete("/api/rooms/\(club)/members/\(bob.id)", token: owner.accessToken).status == .noContent)
            expectError(try await api.get("/api/rooms/\(club)", token: bob.accessToken), .notFound)

            // In a public room too, only the owner adds others.
            let lobby = try await api.room(by: owner)
            #expect(try await api.put("/api/rooms/\(lobby)/members/\(bob.id)", token: bob.accessToken).status == .ok)
            expectError(try await api.put("/api/rooms/\(lobby)/members/\(carol.id)", token: bob.accessToken), .forbidden)
            #expect(try await api.put("/api/rooms/\(lobby)/members/\(carol.id)", token: owner.accessToken).status == .ok)
            #expect(try await api.delete("/api/rooms/\(lobby)/members/\(carol.id)", token: owner.accessToken).status == .noContent)
            #expect(try await api.services.rooms.members(of: lobby).map(\.id) == [owner.id, bob.id])
        }
    }

    @Test("messages are numbered 1, 2, 3 … per room; only members send", arguments: TestEngine.allCases)
    func appendNumbers(engine: TestEngine) async throws {
        try await withAgora(on: engine) { api in
            let alice = try await api.user(), bob = try await api.user()
            let room = try await api.room(by: alice), other = try await api.room(by: bob)
            for (index, text) in ["one", "two", "three"].enumerated() {
                let sent = try await api.send(text, to: room, by: alice)
                #expect(sent.message.seq == Int64(index + 1) && !sent.duplicate)
                #expect(sent.message.room == room && sent.message.body == text && sent.message.clientMsgId == nil)
                #expect(sent.message.sender == ChatUser(id: alice.id, nickname: alice.nickname))
            }
            #expect(try await api.send("first elsewhere", to: other, by: bob).message.seq == 1)
            #expect(try await api.get("/api/rooms/\(room)", token: alice.accessToken).json["lastSeq"].int == 3)

            await expectServiceError(.denied(code: "not_a_member", message: "Join the room to send messages to it.")) {
                try await api.send("let me in", to: room, by: bob)
            }
            await expectServiceError(.notFound("The room")) { try await api.send("anyone?", to: 999_999, by: bob) }
            // A refused send takes no seq.
            #expect(try await api.put("/api/rooms/\(room)/members/\(bob.id)", token: bob.accessToken).status == .ok)
            #expect(try await api.send("in at last", to: room, by: bob).message.seq == 4)
        }
    }

    @Test("concurrent sends from many tasks get every seq from 1 to n exactly once", arguments: TestEngine.allCases)
    func concurrentAppends(engine: TestEngine) async throws {
        try await withAgora(on: engine) { api in
            let owner = try await api.user()
            let room = try await api.room(by: owner)
            var senders = [owner]
            for _ in 0..<4 {
                let user = try await api.user()
                #expect(try await api.put("/api/rooms/\(room)/members/\(user.id)", token: user.accessToken).status == .ok)
                senders.append(user)
            }
            let perSender = 50
            let seqs = try await withThrowingTaskGroup(of: [Int64].self) { group in
                for sender in senders {
                    for task in 0..<5 {
                        group.addTask {
                            var seqs: [Int64] = []
                            for index in 0..<(perSender / 5) {
                                seqs.append(try await api.send("\(sender.id)-\(task)-\(index)", to: room, by: sender).message.seq)
                            }
                            return seqs
                        }
                    }
                }
                return try await group.reduce(into: []) { $0 += $1 }
            }
            let total = senders.count * perSender
            #expect(seqs.sorted() == Array(1...Int64(total)))
            #expect(try await api.count("chat_messages", where: "room_id = \(room)") == total)
            #expect(try await api.get("/api/rooms/\(room)", token: owner.accessToken).json["lastSeq"].int == total)
            let history = try await api.services.rooms.messages(in: room, after: 0, limit: total + 10)
            #expect(history.map(\.seq) == Array(1...Int64(total)))
        }
    }

    @Test("a resent clientMsgId returns the stored message and stores nothing", arguments: TestEngine.allCases)
    func clientMessageIDsDedupe(engine: TestEngine) async throws {
        try await withAgora(on: engine) { api in
            let alice = try await api.user(), bob = try await api.user()
            let room = try await api.room(by: alice), other = try await api.room(by: alice)
            #expect(try await api.put("/api/rooms/\(room)/members/\(bob.id)", token: bob.accessToken).status == .ok)
            let first = try await api.send("hello", to: room, by: alice, clientMsgId: "m-1")
            #expect(!first.duplicate && first.message.seq == 1 && first.message.clientMsgId == "m-1")
            let again = try await api.send("hello (resent)", to: room, by: alice, clientMsgId: "m-1")
            #expect(again.duplicate && again.message == first.message)
            // The id is the sender's own, per room.
            #expect(try await api.send("hi", to: room, by: bob, clientMsgId: "m-1").message.seq == 2)
            #expect(try await api.send("hello", to: other, by: alice, clientMsgId: "m-1").message.seq == 1)
            #expect(try await api.send("no id", to: room, by: alice).message.seq == 3)
            #expect(try await api.send("no id", to: room, by: alice).message.seq == 4)
            #expect(try await api.count("chat_messages", where: "room_id = \(room)") == 4)
            #expect(try await api.count("chat_messages", where: "client_msg_id = 'm-1'") == 3)

            let history = try await api.get("/api/rooms/\(room)/messages", token: alice.accessToken)
            #expect(history.json["items"][0]["clientMsgId"].string == "m-1")
            #expect(history.json["items"][2].object?.keys.contains("clientMsgId") == false)
        }
    }

    @Test("resends racing each other store the message once; every one gets its seq, and the room's seqs stay gapless",
          arguments: TestEngine.allCases)
    func racingResends(engine: TestEngine) async throws {
        try await withAgora(on: engine) { api in
            let alice = try await api.user()
            let room = try await api.room(by: alice)
            for round in 1...5 {
                let replies = try await withThrowingTaskGroup(of: (message: ChatMessage, duplicate: Bool).self) { group in
                    for _ in 0..<8 { group.addTask { try await api.send("once", to: room, by: alice, clientMsgId: "r-\(round)") } }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
                #expect(replies.filter { !$0.duplicate }.count == 1)
                #expect(Set(replies.map(\.message.seq)) == [Int64(round)])
            }
            #expect(try await api.send("after", to: room, by: alice).message.seq == 6)
            #expect(try await api.count("chat_messages", where: "room_id = \(room)") == 6)
        }
    }

    @Test("history: the latest window, before a seq and after a seq, always in ascending seq order", arguments: TestEngine.allCases)
    func historyWindows(engine: TestEngine) async throws {
        try await withAgora(on: engine) { api in
            let alice = try await api.user(), reader = try await api.user()
            let room = try await api.room(by: alice)
            for index in 1...10 { try await api.send("message \(index)", to: room, by: alice) }
            let token = reader.accessToken
            // A public room is readable by anyone signed in, member or not.
            #expect(try await api.historySeqs(room, token: token) == Array(1...10))
            #expect(try await api.historySeqs(room, "?limit=3", token: token) == [8, 9, 10])
            #expect(try await api.historySeqs(room, "?before=8&limit=3", token: token) == [5, 6, 7])
            #expect(try await api.historySeqs(room, "?before=3&limit=3", token: token) == [1, 2])
            #expect(try await api.historySeqs(room, "?before=1", token: token) == [])
            #expect(try await api.historySeqs(room, "?after=7", token: token) == [8, 9, 10])
            #expect(try await api.historySeqs(room, "?after=0&limit=2", token: token) == [1, 2])
            #expect(try await api.historySeqs(room, "?after=10", token: token) == [])

            let reply = try await api.get("/api/rooms/\(room)/messages?after=1&limit=1", token: token)
            let message = reply.json["items"][0]
            #expect(message["seq"].int == 2 && message["room"].int64 == room && message["body"].string == "message 2")
            #expect(message["sender"]["id"].int64 == alice.id && message["sender"]["nickname"].string == alice.nickname)
            #expect(message["id"].int64 != nil)
            #expect(message["sentAt"].string?.wholeMatch(of: /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/) != nil, "\(message)")

            #expect(try await api.services.rooms.messages(in: room, after: 8, limit: 5).map(\.seq) == [9, 10])
            let windows = try await api.services.rooms.history(of: room, for: reader.id, before: nil, after: 4, limit: 2)
            #expect(windows.map(\.seq) == [5, 6])

            for query in ["?before=5&after=2", "?limit=0", "?limit=201", "?limit=abc", "?before=0", "?after=-1", "?before=x"] {
                expectError(try await api.get("/api/rooms/\(room)/messages\(query)", token: token), .unprocessableContent,
                            "validation_failed")
            }
            expectError(try await api.get("/api/rooms/\(room)/messages"), .unauthorized)
            expectError(try await api.get("/api/rooms/123456/messages", token: token), .notFound)
        }
    }

    @Test("an unverified account reads but cannot create, join or send (403 email_not_verified)", arguments: TestEngine.allCases)
    func verifiedEmailRequired(engine: TestEngine) async throws {
        try await withAgora(on: engine) { api in
            let owner = try await api.user()
            let newcomer = try await api.user(verified: false)
            let room = try await api.room(by: owner)
            expectError(try await api.post("/api/rooms", ["name": "Mine", "visibility": "public"], token: newcomer.accessToken),
                        .forbidden, "email_not_verified")
            expectError(try await api.put("/api/rooms/\(room)/members/\(newcomer.id)", token: newcomer.accessToken),
                        .forbidden, "email_not_verified")
            #expect(try await api.get("/api/rooms/\(room)", token: newcomer.accessToken).status == .ok)
            #expect(try await api.get("/api/rooms/\(room)/messages", token: newcomer.accessToken).status == .ok)

            // The owner adds them; sending still needs a verified address.
            #expect(try await api.put("/api/rooms/\(room)/members/\(newcomer.id)", token: owner.accessToken).status == .ok)
            let identity = try #require(await api.services.accessTokens.verify(newcomer.accessToken))
            await expectServiceError(.emailNotVerified) {
                _ = try await api.services.rooms.send("hi", clientMsgId: nil, to: room, by: identity)
            }
            #expect(try await api.services.codes.markVerified(email: newcomer.email))
            #expect(try await api.services.rooms.send("hi", clientMsgId: nil, to: room, by: identity).message.seq == 1)
        }
    }

    @Test("bad room fields and messages are refused with 422 naming each field", arguments: TestEngine.allCases)
    func validation(engine: TestEngine) async throws {
        try await withAgora(on: engine) { api in
            let alice = try await api.user()
            let token = alice.accessToken
            func fields(_ reply: Reply) -> [String] { reply.json["error"]["details"].array.compactMap { $0["field"].string } }

            let blank = try await api.post("/api/rooms", ["name": "   ", "visibility": "public"], token: token)
            expectError(blank, .unprocessableContent, "validation_failed")
            #expect(fields(blank) == ["name"])
            let everything = try await api.post("/api/rooms", ["name": String(repeating: "a", count: 81),
                                                               "topic": String(repeating: "t", count: 301), "visibility": "secret"],
                                                token: token)
            expectError(everything, .unprocessableContent, "validation_failed")
            #expect(fields(everything) == ["name", "topic", "visibility"])
            #expect(fields(try await api.post("/api/rooms", [:], token: token)) == ["name", "visibility"])
            #expect(fields(try await api.post("/api/rooms", ["name": "a\u{7}b", "visibility": "public"], token: token)) == ["name"])
            #expect(fields(try await api.post("/api/rooms", ["name": "ok", "topic": "a\u{0}b", "visibility": "public"],
                                              token: token)) == ["topic"])
            expectError(try await api.post("/api/rooms", ["name": 5, "visibility": "public"], token: token), .badRequest, "invalid_body")
            expectError(try await api.request(.post, "/api/rooms", raw: "{", token: token), .badRequest, "malformed_json")
            // 80 characters after trimming, in any script, is fine.
            let longest = " " + String(repeating: "방", count: 80) + " "
            #expect(try await api.post("/api/rooms", ["name": longest, "visibility": "private"], token: token).status == .created)

            let room = try await api.room(by: alice)
            func refused(_ body: String, clientMsgId: String? = nil) async -> [String] {
                do {
                    try await api.send(body, to: room, by: alice, clientMsgId: clientMsgId)
                    return []
                } catch ServiceError.validation(let problems) {
                    return problems.map(\.field)
                } catch {
                    return ["\(error)"]
                }
            }
            #expect(await refused("") == ["body"])
            #expect(await refused(" \n\t ") == ["body"])
            #expect(await refused(String(repeating: "a", count: 16_385)) == ["body"])
            #expect(await refused(String(repeating: "é", count: 8_193)) == ["body"])
            #expect(await refused("a\u{0}b") == ["body"])
            #expect(await refused("fine", clientMsgId: String(repeating: "x", count: 101)) == ["clientMsgId"])
            #expect(await refused("fine", clientMsgId: "") == ["clientMsgId"])
            #expect(try await api.send(String(repeating: "é", count: 8_192), to: room, by: alice).message.seq == 1)
        }
    }

    @Test("deleting an account removes its rooms, its memberships and its messages", arguments: TestEngine.allCases)
    func accountDeletionCascades(engine: TestEngine) async throws {
        try await withAgora(on: engine) { api in
            let alice = try await api.user(), bob = try await api.user()
            let aliceRoom = try await api.room(by: alice)
            let bobRoom = try await api.room(by: bob)
            #expect(try await api.put("/api/rooms/\(aliceRoom)/members/\(bob.id)", token: bob.accessToken).status == .ok)
            #expect(try await api.put("/api/rooms/\(bobRoom)/members/\(alice.id)", token: alice.accessToken).status == .ok)
            try await api.send("bob in alice's room", to: aliceRoom, by: bob)
            try await api.send("alice in bob's room", to: bobRoom, by: alice, clientMsgId: "a-1")
            try await api.send("bob in his room", to: bobRoom, by: bob)
            // Alice also writes on the board, so the board's counters are exercised by the same deletion.
            let postID = try await api.post(by: bob)
            #expect(try await api.put("/api/posts/\(postID)/like", token: alice.accessToken).status == .ok)

            #expect(try await api.delete("/api/users/me", token: alice.accessToken).status == .noContent)

            expectError(try await api.get("/api/rooms/\(aliceRoom)", token: bob.accessToken), .notFound)
            let room = try await api.get("/api/rooms/\(bobRoom)", token: bob.accessToken)
            #expect(room.json["memberCount"].int == 1 && room.json["lastSeq"].int == 2)
            #expect(try await api.historySeqs(bobRoom, token: bob.accessToken) == [2])
            #expect(try await api.count("rooms", where: "owner_id = \(alice.id)") == 0)
            #expect(try await api.count("room_members", where: "user_id = \(alice.id) OR room_id = \(aliceRoom)") == 0)
            #expect(try await api.count("chat_messages", where: "sender_id = \(alice.id) OR room_id = \(aliceRoom)") == 0)
            #expect(try await api.get("/api/posts/\(postID)").json["likeCount"].int == 0)
            // The room goes on: the next message takes the next seq.
            #expect(try await api.send("still here", to: bobRoom, by: bob).message.seq == 3)
        }
    }
}
