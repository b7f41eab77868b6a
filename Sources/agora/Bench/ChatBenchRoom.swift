import Foundation
import NIOCore

/// The public room and the signed-in users that `agora bench chat` needs, made through the REST
/// API of the server under test (docs/API.md): a sign-up and a login per user, and one room
/// created by the first user. The others become members with their WebSocket `join`, as a
/// public room allows (docs/CHAT.md).
///
/// Accounts are named after a random run id, so runs against the same server (`--url`) never
/// collide. Creating a room and sending need a verified email address unless the server runs
/// with `AGORA_REQUIRE_VERIFIED_EMAIL=false`, as the benchmark's own server does.
struct ChatBenchRoom: Sendable {
    /// A user with the access token it connects with.
    struct Member: Sendable {
        let id: Int64
        let accessToken: String
    }

    let id: Int64
    let members: [Member]

    /// Creates `users` accounts and the room, `concurrency` requests at a time.
    static func create(host: String, port: Int, users: Int, concurrency: Int) async throws -> ChatBenchRoom {
        let run = String(UInt32.random(in: 0 ... .max), radix: 16)
        let email = { @Sendable (n: Int) in "chat-\(run)-\(n)@example.com" }
        // Each login right on the heels of its own sign-up: the 201 means the account is readable.
        let members = try await forEach(users, host: host, port: port, concurrency: concurrency) { connection, n in
            let signup = try await connection.send(.POST, "/api/auth/signup", json: #"""
                {"email":"\#(email(n))","password":"bench password","nickname":"chat-\#(run)-\#(n)"}
                """#)
            try expect(signup, 201, "sign-up of \(email(n))")
            let login = try await connection.send(.POST, "/api/auth/login", json: #"{"email":"\#(email(n))","password":"bench password"}"#)
            try expect(login, 200, "login of \(email(n))")
            let session = try JSONDecoder().decode(Session.self, from: Data(login.body.readableBytesView))
            return Member(id: session.user.id, accessToken: session.accessToken)
        }
        guard let owner = members.first else { throw BenchFailure("no users to make a room for") }

        var connection = try await BenchHTTPConnection(host: host, port: port)
        let created = try await connection.send(.POST, "/api/rooms", json: #"{"name":"bench \#(run)","visibility":"public"}"#,
                                                bearer: owner.accessToken)
        await connection.close()
        try expect(created, 201, "creating the room")
        let room = try JSONDecoder().decode(Room.self, from: Data(created.body.readableBytesView)).id
        return ChatBenchRoom(id: room, members: members)
    }

    private struct Session: Decodable {
        struct User: Decodable { var id: Int64 }
        var accessToken: String
        var user: User
    }

    private struct Room: Decodable {
        var id: Int64
    }

    private static func expect(_ answer: BenchHTTPConnection.Answer, _ status: Int, _ what: String) throws {
        guard answer.status == status else {
            throw BenchFailure("\(what) answered \(answer.status), not \(status): \(String(buffer: answer.body))")
        }
    }

    /// Runs `body` for 0..<count on `concurrency` keep-alive connections (connection `c` takes
    /// `c`, `c + concurrency`, …) and returns its results in order.
    private static func forEach<Result: Sendable>(
        _ count: Int, host: String, port: Int, concurrency: Int,
        _ body: @escaping @Sendable (inout BenchHTTPConnection, Int) async throws -> Result
    ) async throws -> [Result] {
        try await withThrowingTaskGroup(of: [(Int, Result)].self) { group in
            for first in 0..<min(concurrency, count) {
                group.addTask {
                    var connection = try await BenchHTTPConnection(host: host, port: port)
                    var results: [(Int, Result)] = []
                    do {
                        for n in stride(from: first, to: count, by: concurrency) {
                            results.append((n, try await body(&connection, n)))
                        }
                    } catch {
                        await connection.close()
                        throw error
                    }
                    await connection.close()
                    return results
                }
            }
            var all: [(Int, Result)] = []
            for try await results in group { all += results }
            return all.sorted { $0.0 < $1.0 }.map(\.1)
        }
    }
}
