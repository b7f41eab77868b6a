import Foundation
import HTTPTypes
import Testing

@Suite("Bad input gets the one error shape, never a 500")
struct ErrorShapeTests {
    @Test("malformed JSON is 400 malformed_json", arguments: TestEngine.allCases)
    func malformedJSON(engine: TestEngine) async throws {
        try await withAgora(on: engine) { api in
            for raw in ["{", "not json", "{\"email\": }", "", "[1,2", "\u{FEFF}{]"] {
                expectError(try await api.request(.post, "/api/auth/signup", raw: raw), .badRequest, "malformed_json")
            }
        }
    }

    @Test("a field of the wrong type is 400 invalid_body naming the field", arguments: TestEngine.allCases)
    func wrongTypes(engine: TestEngine) async throws {
        try await withAgora(on: engine) { api in
            let reply = try await api.post("/api/auth/signup", ["email": 42, "password": "long enough", "nickname": "nick"])
            expectError(reply, .badRequest, "invalid_body")
            #expect(reply.json["error"]["details"][0]["field"].string == "email")
            let user = try await api.user()
            let tags = try await api.post("/api/posts", ["title": "t", "body": "b", "tags": "not-an-array"], token: user.accessToken)
            expectError(tags, .badRequest, "invalid_body")
            let nested = try await api.post("/api/posts", ["title": "t", "body": "b", "tags": ["ok", 7]], token: user.accessToken)
            expectError(nested, .badRequest, "invalid_body")
            expectError(try await api.request(.post, "/api/auth/login", raw: "[]"), .badRequest)
            expectError(try await api.request(.post, "/api/auth/login", raw: "null"), .badRequest)
            expectError(try await api.post("/api/auth/signup", ["email": NSNull(), "password": "long enough", "nickname": "nick"]),
                        .unprocessableContent)
        }
    }

    @Test("unknown JSON fields are ignored", arguments: TestEngine.allCases)
    func unknownFields(engine: TestEngine) async throws {
        try await withAgora(on: engine) { api in
            let reply = try await api.post("/api/auth/signup", ["email": "x@example.com", "password": "long enough", "nickname": "nick",
                                                                 "role": "admin", "emailVerified": true, "extra": ["deep": [1, 2]]])
            #expect(reply.status == .created)
            #expect(reply.json["user"]["role"].string == "member")
            #expect(reply.json["user"]["emailVerified"].bool == false)
        }
    }

    @Test("a body over the limit is 413, the wrong content type 415", arguments: TestEngine.allCases)
    func sizeAndType(engine: TestEngine) async throws {
        try await withAgora(on: engine, testSettings { $0.maxJSONBodyBytes = 64 * 1024 }) { api in
            let user = try await api.user()
            let huge = String(repeating: "a", count: 70 * 1024)
            expectError(try await api.post("/api/posts", ["title": "t", "body": huge], token: user.accessToken), .contentTooLarge, "body_too_large")
            expectError(try await api.request(.post, "/api/auth/login", raw: "email=a", contentType: "application/x-www-form-urlencoded"),
                        .unsupportedMediaType, "unsupported_media_type")
            expectError(try await api.request(.post, "/api/auth/login", raw: "{}", contentType: nil), .unsupportedMediaType)
            let charset = try await api.request(.post, "/api/auth/login", raw: #"{"email":"a@b.co","password":"x"}"#,
                                                contentType: "application/json; charset=utf-8")
            expectError(charset, .unauthorized)
        }
    }

    @Test("ids that are not positive 64-bit integers are 404", arguments: TestEngine.allCases, ["abc", "-1", "0", "99999999999999999999999", "1.5", "%20", "1e3"])
    func invalidIDs(engine: TestEngine, id: String) async throws {
        try await withAgora(on: engine) { api in
            let user = try await api.user()
            expectError(try await api.get("/api/posts/\(id)"), .notFound, "not_found")
            expectError(try await api.get("/api/users/\(id)"), .notFound, "not_found")
            expectError(try await api.patch("/api/posts/\(id)", ["title": "x"], token: user.accessToken), .notFound)
            expectError(try await api.delete("/api/comments/\(id)", token: user.accessToken), .notFound)
            expectError(try await api.put("/api/users/\(id)/follow", token: user.accessToken), .notFound)
        }
    }

    @Test("an unknown path is 404 and a known path with another method 405 with Allow", arguments: TestEngine.allCases)
    func routingErrors(engine: TestEngine) async throws {
        try await withAgora(on: engine) { api in
            expectError(try await api.get("/api/nothing-here"), .notFound, "not_found")
            expectError(try await api.get("/"), .notFound)
            let reply = try await api.request(.put, "/api/posts")
            expectError(reply, .methodNotAllowed, "method_not_allowed")
            #expect(reply.headers[HTTPField.Name("Allow")!] == "GET, HEAD, POST")
            expectError(try await api.request(.trace, "/api/posts"), .methodNotAllowed)
            expectError(try await api.request(.options, "/healthz"), .methodNotAllowed)
            expectError(try await api.request(.head, "/api/auth/login"), .methodNotAllowed)
            expectError(try await api.request(.post, "/api/users/me"), .methodNotAllowed)
            expectError(try await api.request(.get, "/api/auth/login"), .methodNotAllowed)
            let head = try await api.request(.head, "/healthz")
            #expect(head.status == .ok)
            #expect(head.body.isEmpty)
        }
    }

    @Test("SQL metacharacters, emoji and Korean in every text field are stored and returned byte for byte", arguments: TestEngine.allCases)
    func textRoundTrip(engine: TestEngine) async throws {
        try await withAgora(on: engine) { api in
            let nasty = "Robert'); DROP TABLE posts;-- \"quoted\" \\ back % _ 😀👩‍👩‍👧 한국어 e\u{301} \u{7}end\n\t"
            let alice = try await api.user("앨리스😀'--")
            let me = try await api.get("/api/users/me", token: alice.accessToken)
            #expect(me.json["nickname"].string == "앨리스😀'--")
            let bio = try await api.patch("/api/users/me", ["bio": nasty], token: alice.accessToken)
            #expect(bio.json["bio"].string == nasty)
            let created = try await api.post("/api/posts", ["title": nasty, "body": nasty, "tags": ["태그😀", "'; --"]], token: alice.accessToken)
            #expect(created.status == .created)
            let id = created.json["id"].int64 ?? 0
            let post = try await api.get("/api/posts/\(id)")
            #expect(post.json["title"].string == nasty)
            #expect(post.json["body"].string == nasty)
            #expect(post.json["tags"].array.compactMap(\.string) == ["태그😀", "';---"])
            let comment = try await api.post("/api/posts/\(id)/comments", ["body": nasty], token: alice.accessToken)
            #expect(comment.json["body"].string == nasty)
            let listed = try await api.get("/api/posts/\(id)/comments")
            #expect(listed.json["items"][0]["body"].string == nasty)
            #expect(try await api.get("/api/users/\(alice.id)").json["bio"].string == nasty)
        }
    }

    @Test("a NUL character, which no engine stores, is refused with 422 instead of being truncated", arguments: TestEngine.allCases)
    func nulCharacter(engine: TestEngine) async throws {
        try await withAgora(on: engine) { api in
            let alice = try await api.user()
            let reply = try await api.post("/api/posts", ["title": "a\u{0}b", "body": "ok"], token: alice.accessToken)
            expectError(reply, .unprocessableContent, "validation_failed")
            #expect(reply.json["error"]["details"][0]["field"].string == "title")
            expectError(try await api.patch("/api/users/me", ["bio": "\u{0}"], token: alice.accessToken), .unprocessableContent)
            expectError(try await api.post("/api/auth/signup", ["email": "n@example.com", "password": "long enough", "nickname": "a\u{0}b"]),
                        .unprocessableContent)
        }
    }
}
