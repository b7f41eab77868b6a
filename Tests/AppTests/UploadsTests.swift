@testable import App
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

/// A response whose body is kept as bytes (a downloaded file).
struct FileReply: Sendable {
    let status: HTTPResponse.Status
    let headers: HTTPFields
    let bytes: [UInt8]

    var reply: Reply { Reply(status: status, headers: headers, body: String(decoding: bytes, as: UTF8.self)) }
}

extension API {
    /// `POST /api/uploads` with `bytes` as the body.
    func upload(_ bytes: [UInt8], token: String?, contentType: String = "application/octet-stream") async throws -> Reply {
        var headers: HTTPFields = [.contentType: contentType]
        if let token { headers[.authorization] = "Bearer \(token)" }
        return try await client.execute(uri: "/api/uploads", method: .post, headers: headers, body: ByteBuffer(bytes: bytes)) { response in
            Reply(status: response.status, headers: response.headers, body: String(buffer: response.body))
        }
    }

    /// A request whose response body is read as bytes.
    func download(_ path: String, method: HTTPRequest.Method = .get, headers: HTTPFields = [:]) async throws -> FileReply {
        try await client.execute(uri: path, method: method, headers: headers, body: nil) { response in
            FileReply(status: response.status, headers: response.headers, bytes: Array(buffer: response.body))
        }
    }

    /// `GET /api/uploads/{id}` once the inspection job has run (polled, with a wide margin).
    func processedUpload(_ id: Int64, token: String) async throws -> Reply {
        let deadline = Date().addingTimeInterval(20)
        while true {
            let reply = try await get("/api/uploads/\(id)", token: token)
            if reply.json["status"].string != "processing" || Date() > deadline { return reply }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Uploads `bytes` as `user`, waits for the job and returns the upload's id and final state.
    func processedUpload(_ bytes: [UInt8], by user: TestUser) async throws -> (id: Int64, reply: Reply) {
        let created = try await upload(bytes, token: user.accessToken)
        #expect(created.status == .created, "upload: \(created.body)")
        let id = try #require(created.json["id"].int64)
        return (id, try await processedUpload(id, token: user.accessToken))
    }

    /// The id of a ready upload of `user`.
    func readyUpload(_ bytes: [UInt8] = SampleMedia.png(width: 2, height: 2), by user: TestUser) async throws -> Int64 {
        let (id, reply) = try await processedUpload(bytes, by: user)
        #expect(reply.json["status"].string == "ready", "\(reply.body)")
        return id
    }

    /// The files in `<data dir>/uploads`.
    var uploadedFiles: [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: services.settings.dataDirectory + "/uploads")) ?? []
    }
}

func sha256Hex(_ bytes: [UInt8]) -> String {
    SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
}

@Suite("Uploads")
struct UploadsTests {
    // MARK: Storing and inspecting

    @Test("each supported file becomes ready with its detected type, size, SHA-256 and dimensions", arguments: TestEngine.allCases, MediaSample.all)
    func becomesReady(engine: TestEngine, sample: MediaSample) async throws {
        try await withAgora(on: engine) { api in
            let alice = try await api.user()
            let created = try await api.upload(sample.bytes, token: alice.accessToken, contentType: "text/plain")
            #expect(created.status == .created)
            #expect(created.json["status"].string == "processing")
            let id = try #require(created.json["id"].int64)
            #expect(created.headers[.location] == "/api/uploads/\(id)")

            let reply = try await api.processedUpload(id, token: alice.accessToken)
            #expect(reply.status == .ok)
            #expect(reply.json["id"].int64 == id)
            #expect(reply.json["status"].string == "ready", "\(reply.body)")
            #expect(reply.json["contentType"].string == sample.contentType)
            #expect(reply.json["size"].int == sample.bytes.count)
            #expect(reply.json["sha256"].string == sha256Hex(sample.bytes))
            #expect(reply.json["width"].int == sample.width)
            #expect(reply.json["height"].int == sample.height)
            #expect(reply.json["reason"].isNull)
            #expect(reply.json["url"].string == "/uploads/\(id)")
            #expect(reply.json["createdAt"].string?.hasSuffix("Z") == true)
        }
    }

    @Test("a text file and a truncated PNG are rejected with a reason, and their files are deleted", arguments: TestEngine.allCases, [
        (SampleMedia.text, "Not a supported type"),
        (Array(SampleMedia.png(width: 10, height: 10).prefix(20)), "PNG header (IHDR) is truncated"),
    ] as [([UInt8], String)])
    func rejected(engine: TestEngine, sample: ([UInt8], String)) async throws {
        let (bytes, reason) = sample
        try await withAgora(on: engine) { api in
            let alice = try await api.user()
            let (id, reply) = try await api.processedUpload(bytes, by: alice)
            #expect(reply.json["status"].string == "rejected", "\(reply.body)")
            #expect(reply.json["reason"].string?.contains(reason) == true, "\(reply.body)")
            #expect(reply.json["sha256"].string == sha256Hex(bytes))
            #expect(reply.json["contentType"].isNull)
            #expect(reply.json["url"].isNull)
            // The file goes right after the verdict's commit, which the reply may already show.
            #expect(await eventually { api.uploadedFiles == [] })
            expectError(reply: try await api.download("/uploads/\(id)"), .notFound, "not_found")
        }
    }

    @Test("running the inspection again changes nothing, for a ready and for a rejected upload", arguments: TestEngine.allCases)
    func idempotentJob(engine: TestEngine) async throws {
        try await withAgora(on: engine) { api in
            let alice = try await api.user()
            let ready = try await api.processedUpload(SampleMedia.gif(width: 3, height: 4), by: alice)
            let rejected = try await api.processedUpload(SampleMedia.text, by: alice)
            // The rejected file goes right after the verdict's commit, which the reply may already show.
            #expect(await eventually { api.uploadedFiles.count == 1 })
            let files = api.uploadedFiles
            for _ in 0..<2 {
                try await api.services.uploads.process(ready.id)
                try await api.services.uploads.process(rejected.id)
            }
            #expect(try await api.get("/api/uploads/\(ready.id)", token: alice.accessToken).body == ready.reply.body)
            #expect(try await api.get("/api/uploads/\(rejected.id)", token: alice.accessToken).body == rejected.reply.body)
            #expect(api.uploadedFiles == files)
            // An id with no upload (its account deleted) is nothing to do.
            try await api.services.uploads.process(999_999)
        }
    }

    // MARK: Who may do what

    @Test("uploading needs sign-in; only the owner sees an upload, anyone else gets 404 as for an unknown id", arguments: TestEngine.allCases)
    func ownership(engine: TestEngine) async throws {
        try await withAgora(on: engine) { api in
            expectError(try await api.upload(SampleMedia.pdf, token: nil), .unauthorized, "unauthorized")
            let alice = try await api.user()
            let bob = try await api.user()
            let (id, _) = try await api.processedUpload(SampleMedia.pdf, by: alice)
            let theirs = try await api.get("/api/uploads/\(id)", token: bob.accessToken)
            let unknown = try await api.get("/api/uploads/\(id + 1000)", token: bob.accessToken)
            expectError(theirs, .notFound, "not_found")
            expectError(unknown, .notFound, "not_found")
            #expect(theirs.body == unknown.body)
            expectError(try await api.get("/api/uploads/\(id)"), .unauthorized, "unauthorized")
            expectError(try await api.get("/api/uploads/abc", token: alice.accessToken), .notFound, "not_found")
            // The file itself is public once ready: attachments are.
            #expect(try await api.download("/uploads/\(id)").status == .ok)
        }
    }

    @Test("an empty body is refused with 422 and leaves no file", arguments: TestEngine.allCases)
    func emptyBody(engine: TestEngine) async throws {
        try await withAgora(on: engine) { api in
            let alice = try await api.user()
            let reply = try await api.upload([], token: alice.accessToken)
            expectError(reply, .unprocessableContent, "validation_failed")
            #expect(reply.json["error"]["details"][0]["field"].string == "body")
            #expect(api.uploadedFiles == [])
        }
    }

    // MARK: The size limit

    @Test("a body over the limit by Content-Length is 413 at once and leaves no file; one at the limit is accepted", arguments: TestEngine.allCases)
    func overLimitByContentLength(engine: TestEngine) async throws {
        try await withAgora(on: engine, testSettings { $0.maxUploadBytes = 4096 }) { api in
            let alice = try await api.user()
            let reply = try await api.upload(SampleMedia.pdf + [UInt8](repeating: 0x20, count: 4096), token: alice.accessToken)
            expectError(reply, .contentTooLarge, "body_too_large")
            #expect(api.uploadedFiles == [])
            let atLimit = SampleMedia.pdf + [UInt8](repeating: 0x20, count: 4096 - SampleMedia.pdf.count)
            #expect(try await api.upload(atLimit, token: alice.accessToken).status == .created)
        }
    }

    @Test("a chunked body without Content-Length is cut off past the limit with 413, and its partial file is removed", arguments: TestEngine.allCases)
    func overLimitWhileStreaming(engine: TestEngine) async throws {
        try await withAgora(on: engine, testSettings { $0.maxUploadBytes = 4096 }, framework: .live) { api in
            let alice = try await api.user()
            let socket = try RawSocket(port: UInt16(try #require(api.client.port)))
            defer { socket.close() }
            let chunk = String(repeating: "a", count: 1024)
            let chunks = String(repeating: "400\r\n\(chunk)\r\n", count: 6) + "0\r\n\r\n"
            try socket.send("POST /api/uploads HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer \(alice.accessToken)\r\n"
                            + "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n" + chunks)
            let response = try await offCooperativePool { socket.receiveAll() }
            #expect(response.hasPrefix("HTTP/1.1 413"), "\(response)")
            #expect(response.contains(#""code":"body_too_large""#), "\(response)")
            #expect(try await eventuallyTrue { api.uploadedFiles.isEmpty }, "\(api.uploadedFiles)")
        }
    }

    @Test("a client that disconnects mid-body leaves no file and no upload", arguments: TestEngine.allCases)
    func disconnectMidBody(engine: TestEngine) async throws {
        try await withAgora(on: engine, framework: .live) { api in
            let alice = try await api.user()
            let socket = try RawSocket(port: UInt16(try #require(api.client.port)))
            try socket.send("POST /api/uploads HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer \(alice.accessToken)\r\n"
                            + "Content-Length: 100000\r\n\r\n" + String(repeating: "%", count: 30_000))
            try await Task.sleep(for: .milliseconds(300))
            socket.close()
            try await Task.sleep(for: .milliseconds(300))
            #expect(try await eventuallyTrue { api.uploadedFiles.isEmpty }, "\(api.uploadedFiles)")
            // The next upload gets the first id: nothing was stored for the broken one.
            let next = try await api.upload(SampleMedia.pdf, token: alice.accessToken)
            #expect(next.json["id"].int64 == 1, "\(next.body)")
        }
    }

    // MARK: Serving the file

    @Test("a ready file is served with its type, length, ETag, cache headers and exact bytes; HEAD gives the headers alone", arguments: TestEngine.allCases)
    func serves(engine: TestEngine) async throws {
        try await withAgora(on: engine) { api in
            let alice = try await api.user()
            let bytes = SampleMedia.webpLossy(width: 5, height: 6)
            let id = try await api.readyUpload(bytes, by: alice)
            let reply = try await api.download("/uploads/\(id)")
            #expect(reply.status == .ok)
            #expect(reply.bytes == bytes)
            #expect(reply.headers[.contentType] == "image/webp")
            #expect(reply.headers[.contentLength] == String(bytes.count))
            #expect(reply.headers[.eTag] == "\"\(sha256Hex(bytes))\"")
            #expect(reply.headers[.acceptRanges] == "bytes")
            #expect(reply.headers[.cacheControl] == "public, max-age=31536000, immutable")
            #expect(reply.headers[.contentDisposition] == nil)
            #expect(reply.headers[HTTPField.Name("X-Content-Type-Options")!] == "nosniff")

            let head = try await api.download("/uploads/\(id)", method: .head)
            #expect(head.status == .ok)
            #expect(head.bytes.isEmpty)
            #expect(head.headers[.contentLength] == String(bytes.count))
            #expect(head.headers[.eTag] == reply.headers[.eTag])
        }
    }

    @Test("a PDF is served as an attachment to save, not to open in the API's origin", arguments: TestEngine.allCases)
    func pdfIsAnAttachment(engine: TestEngine) async throws {
        try await withAgora(on: engine) { api in
            let alice = try await api.user()
            let id = try await api.readyUpload(SampleMedia.pdf, by: alice)
            let reply = try await api.download("/uploads/\(id)")
            #expect(reply.headers[.contentType] == "application/pdf")
            #expect(reply.headers[.contentDisposition] == "attachment")
            #expect(reply.bytes == SampleMedia.pdf)
        }
    }

    @Test("byte ranges: a range, an open end and a suffix give 206 with exact bytes and Content-Range", arguments: TestEngine.allCases)
    func ranges(engine: TestEngine) async throws {
        try await withAgora(on: engine) { api in
            let alice = try await api.user()
            let bytes = SampleMedia.jpeg(width: 8, height: 8, exifSegments: [3000])
            let size = bytes.count
            let id = try await api.readyUpload(bytes, by: alice)
            for (header, expected) in [("bytes=10-19", 10...19), ("bytes=\(size - 5)-", (size - 5)...(size - 1)),
                                       ("bytes=-7", (size - 7)...(size - 1)), ("bytes=0-999999", 0...(size - 1))] {
                let reply = try await api.download("/uploads/\(id)", headers: [.range: header])
                #expect(reply.status == .partialContent, "\(header)")
                #expect(reply.bytes == Array(bytes[expected]), "\(header)")
                #expect(reply.headers[.contentRange] == "bytes \(expected.lowerBound)-\(expected.upperBound)/\(size)", "\(header)")
                #expect(reply.headers[.contentLength] == String(expected.count), "\(header)")
                #expect(reply.headers[.contentType] == "image/jpeg")
            }
            // Several ranges, or a malformed one, are answered with the whole file.
            for header in ["bytes=0-1,4-5", "bytes=9-3", "lines=1-2"] {
                let reply = try await api.download("/uploads/\(id)", headers: [.range: header])
                #expect(reply.status == .ok, "\(header)")
                #expect(reply.bytes == bytes, "\(header)")
            }
        }
    }

    @Test("a range past the end is 416 in the error shape with Content-Range: bytes */size", arguments: TestEngine.allCases)
    func unsatisfiableRange(engine: TestEngine) async throws {
        try await withAgora(on: engine) { api in
            let alice = try await api.user()
            let bytes = SampleMedia.png(width: 1, height: 1)
            let id = try await api.readyUpload(bytes, by: alice)
            for header in ["bytes=\(bytes.count)-", "bytes=-0", "bytes=5000-6000"] {
                let reply = try await api.download("/uploads/\(id)", headers: [.range: header])
                expectError(reply: reply, .rangeNotSatisfiable, "range_not_satisfiable")
                #expect(reply.headers[.contentRange] == "bytes */\(bytes.count)", "\(header)")
            }
        }
    }

    @Test("If-None-Match with the ETag gives 304 without a body; If-Range with another ETag gives the whole file", arguments: TestEngine.allCases)
    func conditionalRequests(engine: TestEngine) async throws {
        try await withAgora(on: engine) { api in
            let alice = try await api.user()
            let bytes = SampleMedia.gif(width: 2, height: 2)
            let id = try await api.readyUpload(bytes, by: alice)
            let eTag = "\"\(sha256Hex(bytes))\""
            for header in [eTag, "\"other\", \(eTag)", "W/\(eTag)", "*"] {
                let reply = try await api.download("/uploads/\(id)", headers: [.ifNoneMatch: header])
                #expect(reply.status == .notModified, "\(header)")
                #expect(reply.bytes.isEmpty)
                #expect(reply.headers[.eTag] == eTag)
                #expect(reply.headers[.contentLength] == String(bytes.count))
            }
            #expect(try await api.download("/uploads/\(id)", headers: [.ifNoneMatch: "\"other\""]).status == .ok)
            let stale = try await api.download("/uploads/\(id)", headers: [.range: "bytes=0-1", .ifRange: "\"other\""])
            #expect(stale.status == .ok)
            #expect(stale.bytes == bytes)
            let current = try await api.download("/uploads/\(id)", headers: [.range: "bytes=0-1", .ifRange: eTag])
            #expect(current.status == .partialContent)
            #expect(current.bytes == Array(bytes[0...1]))
        }
    }

    @Test("an upload still processing, an unknown id and a malformed id are 404 at /uploads/{id}", arguments: TestEngine.allCases)
    func notServed(engine: TestEngine) async throws {
        try await withAgora(on: engine, testSettings { $0.runWorkers = false }) { api in
            let alice = try await api.user()
            let created = try await api.upload(SampleMedia.png(width: 1, height: 1), token: alice.accessToken)
            let id = try #require(created.json["id"].int64)
            #expect(try await api.get("/api/uploads/\(id)", token: alice.accessToken).json["status"].string == "processing")
            expectError(reply: try await api.download("/uploads/\(id)"), .notFound, "not_found")
            expectError(reply: try await api.download("/uploads/424242"), .notFound, "not_found")
            expectError(reply: try await api.download("/uploads/-1"), .notFound, "not_found")
        }
    }

    // MARK: Attachments

    @Test("a post shows its attachments in order in every response; PATCH replaces the list", arguments: TestEngine.allCases)
    func attachments(engine: TestEngine) async throws {
        try await withAgora(on: engine) { api in
            let alice = try await api.user()
            let png = try await api.readyUpload(SampleMedia.png(width: 30, height: 20), by: alice)
            let pdf = try await api.readyUpload(SampleMedia.pdf, by: alice)
            let gif = try await api.readyUpload(SampleMedia.gif(width: 1, height: 2), by: alice)

            let created = try await api.post("/api/posts", ["title": "t", "body": "b", "tags": ["x"], "attachments": [pdf, png]],
                                             token: alice.accessToken)
            #expect(created.status == .created, "\(created.body)")
            let postID = try #require(created.json["id"].int64)
            let attachments = created.json["attachments"].array
            #expect(attachments.compactMap { $0["id"].int64 } == [pdf, png])
            #expect(attachments[0]["contentType"].string == "application/pdf")
            #expect(attachments[0]["size"].int == SampleMedia.pdf.count)
            #expect(attachments[0]["width"].isNull)
            #expect(attachments[0]["url"].string == "/uploads/\(pdf)")
            #expect(attachments[1]["contentType"].string == "image/png")
            #expect(attachments[1]["width"].int == 30)
            #expect(attachments[1]["height"].int == 20)

            let other = try await api.post(by: alice, tags: ["x"])
            let shown = try await api.get("/api/posts/\(postID)")
            #expect(shown.json["attachments"].array.compactMap { $0["id"].int64 } == [pdf, png])
            let list = try await api.get("/api/posts")
            #expect(list.json["items"].array.map { $0["attachments"].array.compactMap { $0["id"].int64 } } == [[], [pdf, png]])
            let related = try await api.get("/api/posts/\(other)/related")
            #expect(related.json["items"][0]["attachments"].array.compactMap { $0["id"].int64 } == [pdf, png])

            let edited = try await api.patch("/api/posts/\(postID)", ["attachments": [gif, pdf, png]], token: alice.accessToken)
            #expect(edited.json["attachments"].array.compactMap { $0["id"].int64 } == [gif, pdf, png])
            #expect(try await api.get("/api/posts/\(postID)").json["attachments"].array.compactMap { $0["id"].int64 } == [gif, pdf, png])
            // A PATCH without `attachments` keeps them; an empty list removes them.
            let retitled = try await api.patch("/api/posts/\(postID)", ["title": "new"], token: alice.accessToken)
            #expect(retitled.json["attachments"].array.count == 3)
            let cleared = try await api.patch("/api/posts/\(postID)", ["attachments": []], token: alice.accessToken)
            #expect(cleared.json["attachments"].array.isEmpty)
            #expect(try await api.get("/api/posts/\(postID)").json["attachments"].array.isEmpty)
            // The uploads stay, and can be attached again, even to two posts.
            let second = try await api.post("/api/posts", ["title": "t", "body": "b", "attachments": [png]], token: alice.accessToken)
            #expect(second.status == .created)
            let third = try await api.post("/api/posts", ["title": "t", "body": "b", "attachments": [png]], token: alice.accessToken)
            #expect(third.status == .created)
        }
    }

    @Test("another user's upload, a rejected or processing one, an unknown id, duplicates and more than 10 are refused with 422", arguments: TestEngine.allCases)
    func attachmentRules(engine: TestEngine) async throws {
        try await withAgora(on: engine) { api in
            let alice = try await api.user()
            let bob = try await api.user()
            let mine = try await api.readyUpload(by: alice)
            let bobs = try await api.readyUpload(by: bob)
            let (rejected, _) = try await api.processedUpload(SampleMedia.text, by: alice)
            let postID = try await api.post(by: alice)
            func refused(_ attachments: [Any], sourceLocation: SourceLocation = #_sourceLocation) async throws {
                for reply in [
                    try await api.post("/api/posts", ["title": "t", "body": "b", "attachments": attachments], token: alice.accessToken),
                    try await api.patch("/api/posts/\(postID)", ["attachments": attachments], token: alice.accessToken),
                ] {
                    expectError(reply, .unprocessableContent, "validation_failed", sourceLocation: sourceLocation)
                    #expect(reply.json["error"]["details"][0]["field"].string == "attachments", sourceLocation: sourceLocation)
                }
            }
            try await refused([bobs])
            try await refused([mine, rejected])
            try await refused([999_999])
            try await refused([0])
            try await refused([mine, mine])
            try await refused(Array(repeating: mine, count: 11))
            // Nothing was attached or created by the refused requests.
            #expect(try await api.get("/api/posts/\(postID)").json["attachments"].array.isEmpty)
            #expect(try await api.get("/api/posts").json["items"].array.count == 1)
            // A wrong type is a 400 like any other field.
            let wrongType = try await api.post("/api/posts", ["title": "t", "body": "b", "attachments": ["one"]], token: alice.accessToken)
            expectError(wrongType, .badRequest, "invalid_body")
        }
    }

    @Test("ten ready uploads may be attached; an upload still processing may not", arguments: TestEngine.allCases)
    func attachmentLimitAndProcessing(engine: TestEngine) async throws {
        try await withAgora(on: engine) { api in
            let alice = try await api.user()
            var ids: [Int64] = []
            for width in 1...10 { ids.append(try await api.readyUpload(SampleMedia.gif(width: width, height: 1), by: alice)) }
            let post = try await api.post("/api/posts", ["title": "t", "body": "b", "attachments": ids], token: alice.accessToken)
            #expect(post.json["attachments"].array.compactMap { $0["id"].int64 } == ids)
        }
        try await withAgora(on: engine, testSettings { $0.runWorkers = false }) { api in
            let alice = try await api.user()
            let processing = try #require(try await api.upload(SampleMedia.pdf, token: alice.accessToken).json["id"].int64)
            let reply = try await api.post("/api/posts", ["title": "t", "body": "b", "attachments": [processing]], token: alice.accessToken)
            expectError(reply, .unprocessableContent, "validation_failed")
        }
    }

    @Test("an admin editing someone's post may attach only that author's uploads", arguments: TestEngine.allCases)
    func adminAttachesAuthorsUploads(engine: TestEngine) async throws {
        try await withAgora(on: engine) { api in
            let alice = try await api.user()
            let admin = try await api.admin()
            let alices = try await api.readyUpload(by: alice)
            let admins = try await api.readyUpload(by: admin)
            let postID = try await api.post(by: alice)
            expectError(try await api.patch("/api/posts/\(postID)", ["attachments": [admins]], token: admin.accessToken),
                        .unprocessableContent, "validation_failed")
            let edited = try await api.patch("/api/posts/\(postID)", ["attachments": [alices]], token: admin.accessToken)
            #expect(edited.json["attachments"][0]["id"].int64 == alices)
        }
    }
}

/// `expectError` for a reply whose body was read as bytes.
func expectError(reply: FileReply, _ status: HTTPResponse.Status, _ code: String? = nil,
                 sourceLocation: SourceLocation = #_sourceLocation) {
    expectError(reply.reply, status, code, sourceLocation: sourceLocation)
}

/// Polls `condition` until it holds or `seconds` pass; returns whether it held.
func eventuallyTrue(within seconds: Double = 10, _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return try await condition()
}
