@testable import App
import Foundation
import HummingbirdTesting
import Logging
import PostgresTestSupport
import SQLKit
import Storage
import Testing

/// A PostgreSQL server of the test's own (the shared test server must stay up for the others),
/// stopped and started again under the running application.
@Suite("PostgreSQL restart")
struct DatabaseRestartTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// Runs `scripts/postgres.sh arguments…` and returns what it printed. Spawned and awaited with
    /// posix_spawn and waitpid: Foundation's `Process` never saw the script end once it had
    /// started a server (the daemon outlives it).
    static func postgres(_ arguments: [String]) async throws -> String {
        try await offCooperativePool {
            let output = FileManager.default.temporaryDirectory.appendingPathComponent("agora-pg-script-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: output) }
            let script = repository.appendingPathComponent("scripts/postgres.sh").path
            let command = ([script] + arguments).map { "'" + $0 + "'" }.joined(separator: " ") + " > '\(output.path)'"
            let argv: [UnsafeMutablePointer<CChar>?] = ["/bin/bash", "-c", command].map { (text: String) in strdup(text) } + [nil]
            defer { argv.forEach { free($0) } }
            var pid = pid_t()
            guard posix_spawn(&pid, "/bin/bash", nil, nil, argv, environ) == 0 else { throw PostgresScriptFailed(arguments: arguments) }
            var status: Int32 = 0
            while waitpid(pid, &status, 0) == -1, errno == EINTR {}
            guard status == 0 else { throw PostgresScriptFailed(arguments: arguments) }
            return try String(contentsOf: output, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        }
    }

    struct PostgresScriptFailed: Error {
        let arguments: [String]
    }

    /// A loopback port nobody listens on now.
    static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    @Test("while PostgreSQL restarts, requests fail fast with 503; afterwards everything committed is there and the workers go on",
          .disabled("""
              Known bug, open: a query sent on a pooled connection at the moment the server ends it can \
              hang forever (jobs stay running in their worker, leases renewed); when such hangs hold \
              enough connections the pool never serves again (2 of 6 local runs: still 503 after 60 s).
              """))
    func restartDuringTraffic() async throws {
        guard PostgresTestServer.url != nil else { return }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("agora-restart-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o755])
        defer { try? FileManager.default.removeItem(at: directory) }
        let cluster = directory.appendingPathComponent("cluster").path
        let url = try await Self.postgres(["start", cluster, String(Self.freePort())])
        // Stopped again below; this only covers a failure on the way (stopping a stopped server fails harmlessly).
        defer { Task { _ = try? await Self.postgres(["stop", cluster]) } }
        let logger = { var logger = Logger(label: "agora-test"); logger.logLevel = .critical; return logger }()
        var settings = testSettings {
            $0.queuePollInterval = .milliseconds(200)
            // Jobs in flight when the server stops are rescued when their lease expires.
            $0.queueLeaseDuration = .seconds(3)
        }
        settings.databaseURL = url
        defer { try? FileManager.default.removeItem(atPath: settings.dataDirectory) }
        let services = try await AgoraServices.open(settings: settings, logger: logger)
        try await buildApplication(services: services, logger: logger).test(.live) { client in
            let api = API(client: client, services: services)
            let alice = try await api.user()
            var created: [Int64] = []
            for index in 1...5 { created.append(try await api.post(by: alice, title: "before \(index)")) }
            _ = try await services.queue.enqueue(batch: Array(repeating: QueueProbeJob(), count: 20))

            _ = try await Self.postgres(["stop", cluster])
            // The first call meets the dropped connections; the ones after it fail at once.
            var statuses: [Int] = []
            var slowest: Duration = .zero
            for _ in 1...10 {
                let start = ContinuousClock.now
                let reply = try await api.get("/api/posts/\(created[0])")
                if statuses.count > 0 { slowest = max(slowest, ContinuousClock.now - start) }
                statuses.append(Int(reply.status.code))
                if reply.status == .serviceUnavailable { #expect(reply.json["error"]["code"].string == "unavailable", "\(reply.body)") }
            }
            #expect(statuses.allSatisfy { $0 == 503 }, "\(statuses)")
            // Far below the 30 s the tests allow for a connection: nobody waits for a server that is down.
            #expect(slowest < .seconds(2), "\(slowest)")
            let refused = try await api.post("/api/posts", ["title": "while down", "body": "x"],
                                             token: alice.accessToken)
            #expect(refused.status == .serviceUnavailable)

            _ = try await Self.postgres(["start", cluster])
            #expect(try await eventually(within: 60) { try await api.get("/api/posts/\(created[0])").status == .ok },
                    "the pool reconnects by itself")
            for id in created { #expect(try await api.get("/api/posts/\(id)").status == .ok, "committed before the restart") }
            created.append(try await api.post(by: alice, title: "after"))
            // The workers go on. (Not asserted here: a job whose database call was in flight at the
            // very moment of the stop can stay stuck in its worker, its lease renewed: the known bug above.)
            let after = try await services.queue.enqueue(batch: Array(repeating: QueueProbeJob(), count: 20)).map(\.id)
            let first = try #require(after.min())
            let done = try await eventually(within: 60) {
                try await services.database.read { db in
                    try await db.raw("SELECT count(*) AS n FROM queue_jobs WHERE id >= \(bind: first) AND state = 'completed'")
                        .first(decodingColumn: "n", as: Int.self)
                } == 20
            }
            #expect(done, "the workers resumed: every job enqueued after the restart ran")
        }
        _ = try await Self.postgres(["stop", cluster])
    }
}
