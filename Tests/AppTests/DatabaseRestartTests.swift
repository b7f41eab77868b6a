@testable import App
import Foundation
import HummingbirdTesting
import Logging
import PostgresTestSupport
import ProcessTestSupport
import SQLKit
import Storage
import Synchronization
import Testing

/// A PostgreSQL server of the test's own (the shared test server must stay up for the others),
/// stopped and started again under the running application.
@Suite("PostgreSQL restart")
struct DatabaseRestartTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// Runs `scripts/postgres.sh arguments…` and returns what it printed. Its output goes to a
    /// file, not a pipe: the server it starts outlives it and keeps its descriptors.
    static func postgres(_ arguments: [String]) async throws -> String {
        try await offCooperativePool {
            let output = FileManager.default.temporaryDirectory.appendingPathComponent("agora-pg-script-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: output) }
            let script = repository.appendingPathComponent("scripts/postgres.sh").path
            let status = try ChildProcess("/bin/bash", [script] + arguments, output: .file(output.path), errors: .discarded).wait()
            guard status == 0 else { throw PostgresScriptFailed(arguments: arguments) }
            return try String(contentsOf: output, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        }
    }

    struct PostgresScriptFailed: Error {
        let arguments: [String]
    }

    /// A PostgreSQL server of this test's own on a free port, stopped at the end however it ends.
    static func withOwnServer(_ body: (_ url: String, _ cluster: String) async throws -> Void) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("agora-restart-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o755])
        defer { try? FileManager.default.removeItem(at: directory) }
        let cluster = directory.appendingPathComponent("cluster").path
        let url = try await postgres(["start", cluster, String(try freeLoopbackPort())])
        do {
            try await body(url, cluster)
        } catch {
            _ = try? await postgres(["stop", cluster])
            throw error
        }
        _ = try? await postgres(["stop", cluster]) // fails harmlessly if the body stopped it
    }

    @Test("calls in flight when PostgreSQL stops all end (none waits forever), and every caller is served again once it is back")
    func callsInFlightAcrossAStop() async throws {
        guard PostgresTestServer.url != nil else { return }
        try await Self.withOwnServer { url, cluster in
            let logger = { var logger = Logger(label: "agora-test"); logger.logLevel = .critical; return logger }()
            let store = try await PostgresStore.open(url: url, connections: 8, acquireTimeout: .seconds(2), logger: logger)
            try await store.transaction { db in try await db.raw("CREATE TABLE t (id BIGSERIAL PRIMARY KEY, v INT)").run() }
            final class Callers: Sendable {
                /// When each caller's current call began (none while between calls), and when its last call succeeded.
                let calling = Mutex<[Int: ContinuousClock.Instant]>([:])
                let succeeded = Mutex<[Int: ContinuousClock.Instant]>([:])
                let stop = Atomic<Bool>(false)
                func stuck(longerThan limit: Duration) -> [Int] {
                    let now = ContinuousClock.now
                    return calling.withLock { $0.filter { now - $0.value > limit }.map(\.key) }
                }
            }
            let callers = Callers(), count = 16
            // 16 callers on 8 connections, each a transaction after the other: at any moment some
            // are mid-query, some waiting for a connection, some between calls.
            let traffic = Task {
                await withTaskGroup(of: Void.self) { group in
                    for caller in 0..<count {
                        group.addTask {
                            while !callers.stop.load(ordering: .relaxed) {
                                callers.calling.withLock { $0[caller] = .now }
                                do {
                                    try await store.transaction { db in
                                        try await db.raw("INSERT INTO t (v) VALUES (\(bind: caller))").run()
                                        _ = try await db.raw("SELECT count(*) AS n FROM t WHERE v = \(bind: caller)").first()
                                    }
                                    callers.succeeded.withLock { $0[caller] = .now }
                                } catch {
                                    try? await Task.sleep(for: .milliseconds(20))
                                }
                                callers.calling.withLock { $0[caller] = nil }
                            }
                        }
                    }
                }
            }
            try await Task.sleep(for: .seconds(1))
            _ = try await Self.postgres(["stop", cluster])
            try await Task.sleep(for: .seconds(4))
            #expect(callers.stuck(longerThan: .seconds(3)).isEmpty, "calls still waiting 4 s after the stop")
            _ = try await Self.postgres(["start", cluster])
            let restarted = ContinuousClock.now
            let served = try await eventually(within: 30) {
                callers.succeeded.withLock { $0.values.filter { $0 > restarted }.count } == count
            }
            #expect(served, "every caller commits again after the restart")
            callers.stop.store(true, ordering: .relaxed)
            await traffic.value
            try await store.close()
        }
    }

    @Test("while PostgreSQL restarts under traffic, requests fail fast with 503; afterwards everything committed is there and every job runs")
    func restartDuringTraffic() async throws {
        guard PostgresTestServer.url != nil else { return }
        try await Self.withOwnServer { url, cluster in
            let logger = { var logger = Logger(label: "agora-test"); logger.logLevel = .critical; return logger }()
            var settings = testSettings {
                $0.queuePollInterval = .milliseconds(200)
                // Jobs whose acknowledgement was lost with the server are rescued when their lease expires.
                $0.queueLeaseDuration = .seconds(3)
            }
            settings.databaseURL = url
            // The product's wait for a connection, not the tests' 30 s: the test client gives up
            // on a request after 20 s, and under a full test run the pool may take longer than
            // that to come back after the restart (the request then answers 503 and is retried).
            settings.postgresAcquireTimeout = .seconds(5)
            defer { try? FileManager.default.removeItem(atPath: settings.dataDirectory) }
            let services = try await AgoraServices.open(settings: settings, logger: logger)
            try await buildApplication(services: services, logger: logger).test(.live) { client in
                let api = API(client: client, services: services)
                let alice = try await api.user()
                let first = try await api.post(by: alice, title: "before")
                // Slow jobs, so that workers are mid-job when the server stops.
                let jobs = try await services.queue.enqueue(batch: Array(repeating: QueueProbeJob(workMillis: 20), count: 300))
                    .map(\.id)
                // Writers go on through the outage; a post whose creation answered 201 was committed.
                final class Committed: Sendable {
                    let ids = Mutex<[Int64]>([])
                    let stop = Atomic<Bool>(false)
                }
                let committed = Committed()
                let writers = Task {
                    await withTaskGroup(of: Void.self) { group in
                        for writer in 0..<4 {
                            group.addTask {
                                var index = 0
                                while !committed.stop.load(ordering: .relaxed) {
                                    index += 1
                                    let reply = try? await api.post("/api/posts", ["title": "w\(writer) #\(index)", "body": "x"],
                                                                    token: alice.accessToken)
                                    if reply?.status == .created, let id = reply?.json["id"].int64 {
                                        committed.ids.withLock { $0.append(id) }
                                    } else {
                                        try? await Task.sleep(for: .milliseconds(50))
                                    }
                                }
                            }
                        }
                    }
                }
                try await Task.sleep(for: .milliseconds(500))
                _ = try await Self.postgres(["stop", cluster])
                // Calls that meet the dropped connections end within a second, and a call that
                // finds no connection within the 5 s wait fails; once one has failed, the store is in
                // its down state and every call after it fails at once.
                try await Task.sleep(for: .milliseconds(1500))
                var statuses: [Int] = []
                var slowest: Duration = .zero
                for _ in 1...10 {
                    let start = ContinuousClock.now
                    let reply = try await api.get("/api/posts/\(first)")
                    if !statuses.isEmpty { slowest = max(slowest, ContinuousClock.now - start) }
                    statuses.append(Int(reply.status.code))
                    if reply.status == .serviceUnavailable { #expect(reply.json["error"]["code"].string == "unavailable", "\(reply.body)") }
                }
                #expect(statuses.allSatisfy { $0 == 503 }, "\(statuses)")
                // Far below the 30 s the tests allow for a connection: nobody waits for a server that is down.
                #expect(slowest < .seconds(1), "\(slowest)")

                _ = try await Self.postgres(["start", cluster])
                #expect(try await eventually(within: 60) { try await api.get("/api/posts/\(first)").status == .ok },
                        "the pool reconnects by itself")
                let restarted = committed.ids.withLock { $0.count }
                #expect(try await eventually(within: 30) { committed.ids.withLock { $0.count } > restarted + 20 },
                        "the writers commit again")
                committed.stop.store(true, ordering: .relaxed)
                await writers.value
                let ids = committed.ids.withLock { $0 } + [first]
                let stored = try await services.database.read { db in
                    try await db.raw("SELECT count(*) AS n FROM posts WHERE id = ANY(\(bind: ids))").first(decodingColumn: "n", as: Int.self)
                }
                #expect(stored == ids.count, "every post whose creation answered 201 is stored")

                // The workers go on: every job runs, those interrupted by the stop included.
                let after = try await services.queue.enqueue(batch: Array(repeating: QueueProbeJob(), count: 20)).map(\.id)
                let all = jobs + after
                let done = try await eventually(within: 60) {
                    try await services.database.read { db in
                        try await db.raw("SELECT count(*) AS n FROM queue_jobs WHERE id = ANY(\(bind: all)) AND state = 'completed'")
                            .first(decodingColumn: "n", as: Int.self)
                    } == all.count
                }
                #expect(done, "every job ran, none stuck in a worker")
                let effects = try await services.database.read { db in
                    try await db.raw("SELECT count(*) AS n FROM queue_probe_effects WHERE job_id = ANY(\(bind: all))")
                        .first(decodingColumn: "n", as: Int.self)
                }
                #expect(effects == all.count, "each job's effect applied once")
            }
        }
    }
}
