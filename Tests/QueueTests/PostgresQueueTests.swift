import Foundation
import Queue
import SQLKit
import Storage
import Synchronization
import Testing

/// What only PostgreSQL has: several instances on one database, claiming side by side and waking
/// each other's workers through LISTEN/NOTIFY. Each test opens two stores on one database, as two
/// processes of Agora would.
@Suite("Queue on PostgreSQL across instances")
struct PostgresQueueTests {
    /// The poll interval of every worker here: only a wake-up can run a job within a test.
    let idleConfiguration = WorkerConfiguration(queues: ["default": 4], leaseDuration: .seconds(30), pollInterval: .seconds(60))

    @Test("two instances with several workers each claim every job, and no job twice")
    func racingInstances() async throws {
        try await withPostgresDatabase { url in
            try await withPostgresDriver(url: url) { first, _ in
                try await withPostgresDriver(url: url) { second, _ in
                    // Each instance records what its own workers ran.
                    let runs = [RunCounts(), RunCounts()]
                    let registries = runs.map { instanceRuns in
                        let registry = JobRegistry()
                        registry.register(Probe.self) { _, context in instanceRuns.record(context.id) }
                        return registry
                    }
                    let configuration = WorkerConfiguration(queues: ["race": 8], leaseDuration: .seconds(30), pollInterval: .seconds(60))
                    try await withWorkers(on: [first, first, first], registries[0], configuration: configuration) {
                        try await withWorkers(on: [second, second, second], registries[1], configuration: configuration) {
                            // Both instances enqueue at once, so claims race with inserts as well as with each other.
                            async let fromFirst = first.insert((0..<250).map { NewJob(kind: Probe.name, queue: "race", payload: Probe.payload("a\($0)")) })
                            async let fromSecond = second.insert((0..<250).map { NewJob(kind: Probe.name, queue: "race", payload: Probe.payload("b\($0)")) })
                            let ids = Set(try await fromFirst.map(\.id) + fromSecond.map(\.id))
                            #expect(ids.count == 500)
                            #expect(try await eventually(within: 60) {
                                try await first.counts() == [QueueCount(queue: "race", state: .completed, count: 500)]
                            })
                            let ran = runs.map(\.all)
                            // Both instances took part (the split comes out about even).
                            #expect(ran.allSatisfy { !$0.isEmpty })
                            #expect(ran[0].count + ran[1].count == 500)
                            #expect(Set(ran[0].keys).union(ran[1].keys) == ids)
                            #expect(ran.allSatisfy { $0.values.allSatisfy { $0 == 1 } })
                            let completed = try await second.jobs(in: .completed, queue: "race", before: nil, limit: 1000)
                            #expect(completed.count == 500 && completed.allSatisfy { $0.attempt == 1 })
                        }
                    }
                }
            }
        }
    }

    @Test("a job enqueued on one instance wakes an idle worker of another, long before its poll")
    func wakeUpAcrossInstances() async throws {
        try await withPostgresDatabase { url in
            try await withPostgresDriver(url: url) { producer, producerStore in
                try await withPostgresDriver(url: url) { consumer, _ in
                    let registry = JobRegistry()
                    registry.register(Probe.self) { _, _ in }
                    try await withWorker(consumer, registry, configuration: idleConfiguration) {
                        // The worker's first claim finds nothing; it waits for a wake-up.
                        try await Task.sleep(for: .milliseconds(200))
                        let direct = try await producer.insertProbe("direct")
                        #expect(try await eventually(within: 10) { try await consumer.job(direct)?.state == .completed })
                        let inTransaction = try await producerStore.transaction { db in
                            try await producer.insert([NewJob(kind: Probe.name, queue: "default", payload: Probe.payload("outbox"))], on: db)[0].id
                        }
                        #expect(try await eventually(within: 10) { try await consumer.job(inTransaction)?.state == .completed })
                    }
                }
            }
        }
    }

    @Test("after the listener's connection is killed, it reconnects, catches up on jobs it was not told of, and wakes workers again")
    func listenerReconnects() async throws {
        try await withPostgresDatabase { url in
            try await withPostgresDriver(url: url) { driver, store in
                let registry = JobRegistry()
                registry.register(Probe.self) { _, _ in }
                try await withWorker(driver, registry, configuration: idleConfiguration) {
                    try await Task.sleep(for: .milliseconds(200))
                    let firstListener = try #require(try await listenerBackend(store))
                    // A job committed without a notification, as one whose NOTIFY came while the
                    // listener was away: nothing wakes the worker for it.
                    let unannounced = try await store.transaction { db in
                        try await db.raw("""
                            INSERT INTO queue_jobs (kind, queue, payload, state, max_attempts, run_at, created_at)
                            VALUES (\(bind: Probe.name), 'default', \(bind: Probe.payload("unannounced")), 'pending', 5,
                                    \(bind: Timestamp.now.milliseconds), \(bind: Timestamp.now.milliseconds))
                            RETURNING id
                            """).first()!.decode(column: "id", as: JobID.self)
                    }
                    try await Task.sleep(for: .milliseconds(300))
                    #expect(try await driver.job(unannounced)?.state == .pending)

                    let killed = try await store.read { db in
                        try await db.raw("SELECT pg_terminate_backend(\(bind: firstListener)) AS killed").first()?
                            .decode(column: "killed", as: Bool.self)
                    }
                    #expect(killed == true)
                    // The reconnected listener looks for pending jobs and wakes their workers.
                    #expect(try await eventually(within: 5) { try await driver.job(unannounced)?.state == .completed })
                    let secondListener = try await listenerBackend(store)
                    #expect(secondListener != nil && secondListener != firstListener)
                    let announced = try await driver.insertProbe("after the reconnect")
                    #expect(try await eventually(within: 5) { try await driver.job(announced)?.state == .completed })
                }
            }
        }
    }

    @Test("an enqueue whose transaction rolls back wakes nobody")
    func rollbackWakesNobody() async throws {
        try await withPostgresDatabase { url in
            try await withPostgresDriver(url: url) { driver, store in
                struct Rollback: Error {}
                await #expect(throws: Rollback.self) {
                    try await store.transaction { db in
                        _ = try await driver.insert([NewJob(kind: Probe.name, queue: "void", payload: Probe.payload("gone"))], on: db)
                        throw Rollback()
                    }
                }
                let clock = ContinuousClock()
                let start = clock.now
                await driver.arrivals.wait(for: "void", timeout: .milliseconds(500))
                #expect(clock.now - start >= .milliseconds(500))
            }
        }
    }

    @Test("after claiming its threshold of jobs, an instance vacuums the jobs table (the claim index's dead head)")
    func vacuumsAfterChurn() async throws {
        try await withPostgresDatabase { url in
            try await withPostgresDriver(url: url) { _, store in
                let driver = PostgresQueueDriver(store: store, vacuumAfterClaims: 50)
                func vacuums() async throws -> Int {
                    try await store.read { db in
                        try await db.raw("SELECT vacuum_count AS n FROM pg_stat_user_tables WHERE relname = 'queue_jobs'")
                            .first(decodingColumn: "n", as: Int.self) ?? 0
                    }
                }
                let before = try await vacuums()
                _ = try await driver.insert((0..<60).map { NewJob(kind: Probe.name, queue: "churn", payload: Probe.payload("\($0)")) })
                #expect(try await driver.claimNextJobs(queue: "churn", limit: 40, leaseFor: .seconds(30)).count == 40)
                try await Task.sleep(for: .milliseconds(300))
                #expect(try await vacuums() == before, "40 claims: below the threshold")
                #expect(try await driver.claimNextJobs(queue: "churn", limit: 20, leaseFor: .seconds(30)).count == 20)
                #expect(try await eventually(within: 30) { try await vacuums() > before }, "60 claims: vacuumed")
            }
        }
    }

    /// The process id of the server session listening for this database's notifications: the only
    /// session that ever ran LISTEN (pool connections run other statements).
    func listenerBackend(_ store: PostgresStore) async throws -> Int32? {
        try await store.read { db in
            try await db.raw("""
                SELECT pid FROM pg_stat_activity
                WHERE datname = current_database() AND pid <> pg_backend_pid() AND query LIKE 'LISTEN %'
                """).first()?.decode(column: "pid", as: Int32.self)
        }
    }
}

/// The jobs one instance's workers ran, and how many times each.
final class RunCounts: Sendable {
    private let counts = Mutex<[JobID: Int]>([:])

    func record(_ id: JobID) { counts.withLock { $0[id, default: 0] += 1 } }

    var all: [JobID: Int] { counts.withLock { $0 } }
}
