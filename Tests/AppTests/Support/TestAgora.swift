import App
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import PostgresTestSupport
import Storage
import Testing

/// Test settings: a fresh temporary data directory and a cheap bcrypt cost.
func testSettings(_ change: (inout AppSettings) -> Void = { _ in }) -> AppSettings {
    var settings = AppSettings()
    settings.dataDirectory = FileManager.default.temporaryDirectory
        .appendingPathComponent("agora-test-\(UUID().uuidString)").path
    settings.bcryptCost = 4
    settings.port = 0
    // Tests share two cores with the PostgreSQL server and each other: wait for connections longer.
    settings.postgresAcquireTimeout = .seconds(30)
    change(&settings)
    return settings
}

/// The engines the app's tests run on: each test that starts the application runs once per engine.
/// PostgreSQL needs a server: `AGORA_TEST_DATABASE_URL` (`.ci/run` sets it); without it the
/// PostgreSQL cases print why and pass without running.
enum TestEngine: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite, postgres
    var testDescription: String { rawValue }
}

/// Runs `body` against the real application (the same `buildApplication` as `agora serve`),
/// in-process through HummingbirdTesting, on `engine`, then removes its data directory (and on
/// PostgreSQL its database, one per test). Returns nil only when PostgreSQL is not configured.
@discardableResult
func withAgora<T>(
    on engine: TestEngine = .sqlite,
    _ settings: AppSettings = testSettings(),
    framework: TestingSetup = .router,
    _ body: @Sendable (API) async throws -> T
) async throws -> T? {
    var logger = Logger(label: "agora-test")
    logger.logLevel = .warning
    return try await withTestDatabase(on: engine, settings) { settings in
        let services = try await AgoraServices.open(settings: settings, logger: logger)
        let app = buildApplication(services: services, logger: logger)
        return try await app.test(framework) { client in
            try await body(API(client: client, services: services))
        }
    }
}

/// Gives `body` the settings with a database of its own on `engine` (a fresh PostgreSQL database
/// on the test server, dropped afterwards), and removes the data directory at the end. Returns nil
/// without running `body` when PostgreSQL is asked for but not configured.
func withTestDatabase<T>(on engine: TestEngine, _ settings: AppSettings,
                         _ body: (AppSettings) async throws -> T) async throws -> T? {
    defer { try? FileManager.default.removeItem(atPath: settings.dataDirectory) }
    switch engine {
    case .sqlite:
        return try await body(settings)
    case .postgres:
        return try await PostgresTestServer.withDatabase(prefix: "agora_test") { url in
            var settings = settings
            settings.databaseURL = url
            return try await body(settings)
        }
    }
}

/// A JSON value read from a response, navigated with subscripts: `reply.json["user"]["id"].int`.
struct JSON: @unchecked Sendable, CustomStringConvertible {
    let value: Any?

    subscript(key: String) -> JSON { JSON(value: (value as? [String: Any])?[key]) }
    subscript(index: Int) -> JSON {
        guard let array = value as? [Any], array.indices.contains(index) else { return JSON(value: nil) }
        return JSON(value: array[index])
    }
    var string: String? { value as? String }
    var int: Int? { (value as? Int) ?? (value as? NSNumber)?.intValue }
    var int64: Int64? { int.map(Int64.init) }
    var bool: Bool? { value as? Bool }
    var array: [JSON] { (value as? [Any])?.map { JSON(value: $0) } ?? [] }
    var object: [String: Any]? { value as? [String: Any] }
    var isNull: Bool { value == nil || value is NSNull }
    var description: String { value.map { "\($0)" } ?? "nil" }
}

/// One response: status, headers, body bytes and its JSON.
struct Reply: Sendable {
    let status: HTTPResponse.Status
    let headers: HTTPFields
    let body: String

    var json: JSON {
        JSON(value: try? JSONSerialization.jsonObject(with: Data(body.utf8), options: [.fragmentsAllowed]))
    }

    /// The `error.code` of an error reply.
    var errorCode: String? { json["error"]["code"].string }
}

/// A signed-up, logged-in user of a test.
struct TestUser: Sendable {
    let id: Int64
    let email: String
    let nickname: String
    let password: String
    let accessToken: String
    let refreshToken: String
}

/// A small client over HummingbirdTesting's, speaking the API's JSON.
struct API: Sendable {
    let client: any TestClientProtocol
    /// The services behind the application, for arranging what the API cannot (such as an admin).
    let services: AgoraServices

    func request(_ method: HTTPRequest.Method, _ path: String, json: [String: Any]? = nil, raw: String? = nil,
                 contentType: String? = "application/json", token: String? = nil, headers extra: HTTPFields = [:]) async throws -> Reply {
        var headers = extra
        if let token { headers[.authorization] = "Bearer \(token)" }
        var body: ByteBuffer?
        if let json {
            body = ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: json))
        } else if let raw {
            body = ByteBuffer(string: raw)
        }
        if body != nil, let contentType { headers[.contentType] = contentType }
        return try await client.execute(uri: path, method: method, headers: headers, body: body) { response in
            Reply(status: response.status, headers: response.headers, body: String(buffer: response.body))
        }
    }

    func get(_ path: String, token: String? = nil) async throws -> Reply {
        try await request(.get, path, token: token)
    }

    func post(_ path: String, _ json: [String: Any], token: String? = nil) async throws -> Reply {
        try await request(.post, path, json: json, token: token)
    }

    func patch(_ path: String, _ json: [String: Any], token: String? = nil) async throws -> Reply {
        try await request(.patch, path, json: json, token: token)
    }

    func put(_ path: String, _ json: [String: Any]? = nil, token: String? = nil) async throws -> Reply {
        try await request(.put, path, json: json, token: token)
    }

    func delete(_ path: String, token: String? = nil) async throws -> Reply {
        try await request(.delete, path, token: token)
    }

    /// Signs up and logs in a user with a unique email; `nickname` defaults to a unique one. The
    /// address is verified (as `agora users verify` does) unless `verified` is false.
    func user(_ nickname: String? = nil, password: String = "correct horse battery", verified: Bool = true) async throws -> TestUser {
        let tag = UUID().uuidString.prefix(8).lowercased()
        let nickname = nickname ?? "user-\(tag)"
        let email = "\(tag)@example.com"
        let signup = try await post("/api/auth/signup", ["email": email, "password": password, "nickname": nickname])
        #expect(signup.status == .created, "signup: \(signup.body)")
        if verified { #expect(try await services.codes.markVerified(email: email)) }
        let login = try await post("/api/auth/login", ["email": email, "password": password])
        #expect(login.status == .ok, "login: \(login.body)")
        return TestUser(id: signup.json["user"]["id"].int64 ?? 0, email: email, nickname: nickname, password: password,
                        accessToken: login.json["accessToken"].string ?? "", refreshToken: login.json["refreshToken"].string ?? "")
    }

    /// A user promoted to admin (as `agora users promote` does), logged in again for an admin token.
    func admin() async throws -> TestUser {
        let user = try await user()
        #expect(try await services.accounts.promote(email: user.email))
        let login = try await post("/api/auth/login", ["email": user.email, "password": user.password])
        return TestUser(id: user.id, email: user.email, nickname: user.nickname, password: user.password,
                        accessToken: login.json["accessToken"].string ?? "", refreshToken: login.json["refreshToken"].string ?? "")
    }

    /// Follows `nextCursor` from `path` (which already has a query) to the last page; returns every item's id in order.
    func allPageIDs(_ path: String, token: String? = nil) async throws -> [Int64] {
        var ids: [Int64] = []
        var cursor: String?
        repeat {
            let page = try await get(path + (cursor.map { "&cursor=\($0)" } ?? ""), token: token)
            #expect(page.status == .ok, "\(path): \(page.body)")
            ids += page.json["items"].array.compactMap { $0["id"].int64 }
            cursor = page.json["nextCursor"].string
        } while cursor != nil
        return ids
    }

    /// Creates a post as `user` and returns its id.
    func post(by user: TestUser, title: String = "A title", body: String = "A body", tags: [String] = []) async throws -> Int64 {
        let reply = try await post("/api/posts", ["title": title, "body": body, "tags": tags], token: user.accessToken)
        #expect(reply.status == .created, "create post: \(reply.body)")
        return reply.json["id"].int64 ?? 0
    }
}

/// Checks that `reply` is an error in the API's one shape with `status` and `code`.
func expectError(_ reply: Reply, _ status: HTTPResponse.Status, _ code: String? = nil,
                 sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(reply.status == status, "status of \(reply.body)", sourceLocation: sourceLocation)
    #expect(reply.json["error"]["message"].string?.isEmpty == false, "error shape: \(reply.body)", sourceLocation: sourceLocation)
    if let code {
        #expect(reply.errorCode == code, "code of \(reply.body)", sourceLocation: sourceLocation)
    }
    #expect(reply.headers[.contentType]?.hasPrefix("application/json") == true, sourceLocation: sourceLocation)
}

/// Polls `condition` every 20 ms for up to `seconds`; true if it held.
func eventually(within seconds: Double = 15, _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return try await condition()
}

extension API {
    /// The mails delivered to `email` so far (as `.eml` files in the outbox), oldest first.
    func mails(to email: String) -> [String] {
        let directory = URL(fileURLWithPath: services.settings.outboxDirectory)
        let files = (try? FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: [.contentModificationDateKey])) ?? []
        return files.filter { $0.pathExtension == "eml" }
            .compactMap { url -> (Date, String)? in
                guard let text = try? String(contentsOf: url, encoding: .utf8), text.contains("<\(email)>") || text.contains(" \(email)\r\n") else { return nil }
                let date = (try? url.resourceValues(forKeys: [.contentModificationDateKey]).contentModificationDate) ?? .distantPast
                return (date, text)
            }
            .sorted { $0.0 < $1.0 }.map(\.1)
    }

    /// The six-digit codes mailed to `email` with `subject` (`"verification"` or `"password reset"`),
    /// oldest first, after waiting for at least `count` of them.
    func mailedCodes(to email: String, _ kind: String = "verification", count: Int = 1) async throws -> [String] {
        var codes: [String] = []
        _ = await eventually {
            codes = mails(to: email).compactMap { mail in
                guard let match = mail.firstMatch(of: #/Subject: Your Agora (.+) code: (\d{6})/#), match.1 == kind else { return nil }
                return String(match.2)
            }
            return codes.count >= count
        }
        return codes
    }
}
