import Foundation
import Logging
import PostgresTestSupport
import Queue
import ServiceLifecycleTestKit
import SQLKit
import Storage
import Testing

/// The engines every driver test runs on.
enum DriverKind: String, CaseIterable, CustomTestStringConvertible {
    case sqlite
    /// Runs against the server named by `AGORA_TEST_DATABASE_URL`; skipped when it is unset.
    case postgres
    var testDescription: String { rawValue }
}

/// A fresh, migrated driver of `kind` on its own database, closed afterwards (and on PostgreSQL,
/// the database dropped). Without a PostgreSQL server to test on, a `.postgres` body does not run.
func withDriver(_ kind: DriverKind, _ body: (any QueueDriver, any Database) async throws -> Void) async throws {
    switch kind {
    case .sqlite:
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("agora-queue-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try await SQLiteStore.open(path: directory.appendingPathComponent("queue.sqlite").path, readers: 2,
                                               logger: Logger(label: "queue-test"))
        let driver = SQLiteQueueDriver(store: store)
        try await driver.migrate()
        do {
            try await body(driver, store)
            try await store.close()
        } catch {
            try? await store.close()
            throw error
        }
    case .postgres:
        try await withPostgresDatabase { url in
            try await withPostgresDriver(url: url) { driver, store in try await body(driver, store) }
        }
    }
}

/// Runs `body` with the URL of a new database on the test server, dropped afterwards. Without
/// a server, returns at once (`PostgresTestServer` says why).
func withPostgresDatabase(_ body: (String) async throws -> Void) async throws {
    try await PostgresTestServer.withDatabase(prefix: "agora_queue_test", body)
}

/// A migrated driver on its own store (one instance of Agora) over the database at `url`,
/// closed afterwards.
func withPostgresDriver(url: String, _ body: (PostgresQueueDriver, PostgresStore) async throws -> Void) async throws {
    let store = try await PostgresStore.open(url: url, acquireTimeout: .seconds(30), logger: Logger(label: "queue-test"))
    do {
        let driver = PostgresQueueDriver(store: store)
        try await driver.migrate()
        try await body(driver, store)
        try await store.close()
    } catch {
        try? await store.close()
        throw error
    }
}

/// Runs a worker over `driver` while `body` runs, then shuts it down gracefully.
func withWorker(_ driver: any QueueDriver, _ registry: JobRegistry,
                configuration: WorkerConfiguration = WorkerConfiguration(queues: ["default": 4], leaseDuration: .seconds(30), pollInterval: .seconds(60)),
                _ body: () async throws -> Void) async throws {
    try await withWorkers(on: [driver], registry, configuration: configuration, body)
}

/// Runs one worker per element of `drivers` (name a driver several times for several workers on
/// it) while `body` runs, then shuts them all down gracefully.
func withWorkers(on drivers: [any QueueDriver], _ registry: JobRegistry, configuration: WorkerConfiguration,
                 _ body: () async throws -> Void) async throws {
    let workers = drivers.map {
        QueueWorker(driver: $0, registry: registry, configuration: configuration, logger: Logger(label: "worker-test"))
    }
    try await testGracefulShutdown { trigger in
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in workers { group.addTask { await worker.run() } }
            try await body()
            trigger.triggerGracefulShutdown()
            try await group.waitForAll()
        }
    }
}

/// A job for tests: `label` identifies it, `failTimes` makes its handler throw that many times first.
struct Probe: Job, Hashable {
    static let name = "test.probe"
    var label: String
    var failTimes: Int = 0

    /// The stored payload of a probe that succeeds at once, for jobs inserted through the driver.
    static func payload(_ label: String) -> String { #"{"label":"\#(label)","failTimes":0}"# }
}

struct ProbeFailure: Error, CustomStringConvertible {
    let attempt: Int
    var description: String { "probe failed on attempt \(attempt)" }
}

extension QueueDriver {
    /// Inserts one probe job and returns its id.
    func insertProbe(_ label: String, queue: String = "default", priority: Int = 0, runAt: Timestamp = .now,
                     maxAttempts: Int = 25, uniqueKey: String? = nil) async throws -> JobID {
        try await insert([NewJob(kind: Probe.name, queue: queue, payload: Probe.payload(label), priority: priority,
                                 maxAttempts: maxAttempts, runAt: runAt, uniqueKey: uniqueKey)])[0].id
    }
}

/// Polls `condition` every 10 ms for up to `seconds`; true if it held.
func eventually(within seconds: Double = 10, _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return try await condition()
}
