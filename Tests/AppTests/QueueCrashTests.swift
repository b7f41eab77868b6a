import Foundation
import Logging
import ProcessTestSupport
import SQLKit
import Storage
import Testing

/// The queue's crash proof: real `agora worker` processes killed with SIGKILL.
@Suite("The queue survives SIGKILL", .serialized)
struct QueueCrashTests {
    let dataDir = FileManager.default.temporaryDirectory.appendingPathComponent("agora-crash-\(UUID().uuidString)").path
    /// Short leases, so that a killed worker's jobs are rescued within the test.
    let environment = ["AGORA_QUEUE_LEASE_MILLIS": "1500", "AGORA_QUEUE_POLL_MILLIS": "100", "AGORA_LOG_LEVEL": "error"]

    func startWorker() throws -> ChildProcess {
        try ChildProcess(AgoraProcess.executable.path, ["worker", "--data-dir", dataDir, "--concurrency", "16"],
                         environment: ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("AGORA_") }.merging(environment) { $1 })
    }

    func kill(_ process: ChildProcess, _ signal: Int32) async throws {
        process.signal(signal)
        try await offCooperativePool { process.wait() }
    }

    /// Polls `condition` against the database every 20 ms for up to `seconds`.
    func waitUntil(_ store: SQLiteStore, seconds: Double = 120, _ condition: @escaping @Sendable (any SQLDatabase) async throws -> Bool) async throws -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try await store.read(condition) { return true }
            try await Task.sleep(for: .milliseconds(20))
        }
        return false
    }

    func count(_ sql: String, on db: any SQLDatabase) async throws -> Int {
        try await db.raw(SQLQueryString(sql)).first()?.decode(column: "n", as: Int.self) ?? 0
    }

    func openStore() async throws -> SQLiteStore {
        try await SQLiteStore.open(path: dataDir + "/agora.sqlite", readers: 1, logger: Logger(label: "crash-test"))
    }

    @Test("a worker killed in the middle of 5,000 jobs loses none: every second run is a reclaimed lease, every effect applies once")
    func killedMidway() async throws {
        defer { try? FileManager.default.removeItem(atPath: dataDir) }
        let jobs = 5_000
        // 20 ms a job, at most 16 at once: the whole set takes the worker at least 6 s. On a loaded
        // machine the test's own task may wait seconds between seeing jobs running and sending the
        // kill; with 2 ms jobs the worker had sometimes finished them all by then.
        let enqueue = try await AgoraProcess.run(["jobs", "probe", "--count", "\(jobs)", "--work-millis", "20"], dataDir: dataDir,
                                                 environment: environment)
        #expect(enqueue.status == 0, "\(enqueue.output)")
        let store = try await openStore()

        // Killed while the store shows jobs running. The worker acknowledges a batch and then
        // claims the next, so for a moment none is running; a kill that lands there (it happened
        // on a loaded machine) interrupts nothing, and the worker is started and killed again.
        var atKill = 0
        for _ in 1...5 where atKill == 0 {
            let worker = try startWorker()
            #expect(try await waitUntil(store) { db in
                let effects = try await count("SELECT COUNT(*) AS n FROM queue_probe_effects", on: db)
                let running = try await count("SELECT COUNT(*) AS n FROM queue_jobs WHERE state = 'running'", on: db)
                return (effects >= 1_000 && running >= 5) || effects == jobs // all done: nothing left to interrupt
            })
            try await kill(worker, SIGKILL)
            atKill = try await store.read { try await count("SELECT COUNT(*) AS n FROM queue_jobs WHERE state = 'running'", on: $0) }
        }
        #expect(atKill > 0, "some jobs were running when the worker was killed")

        let second = try startWorker()
        let finished = try await waitUntil(store) {
            try await count("SELECT COUNT(*) AS n FROM queue_jobs WHERE state = 'completed'", on: $0) == jobs
        }
        try await kill(second, SIGTERM)
        #expect(finished)

        try await store.read { db in
            #expect(try await count("SELECT COUNT(*) AS n FROM queue_jobs WHERE state <> 'completed'", on: db) == 0)
            // Exactly one effect per job, keyed by its idempotency key.
            #expect(try await count("SELECT COUNT(*) AS n FROM queue_probe_effects", on: db) == jobs)
            #expect(try await count("SELECT COUNT(DISTINCT job_id) AS n FROM queue_probe_effects", on: db) == jobs)
            // Every job ran, and every execution beyond the first is explained by a reclaimed
            // (expired) lease. (A rescue may also follow a claim whose handler never started.)
            #expect(try await count("SELECT COUNT(*) AS n FROM queue_jobs WHERE id NOT IN (SELECT job_id FROM queue_probe_runs)", on: db) == 0)
            let unexplained = try await count("""
                SELECT COUNT(*) AS n FROM queue_jobs j
                WHERE (SELECT COUNT(*) FROM queue_probe_runs r WHERE r.job_id = j.id)
                    > 1 + (SELECT COUNT(*) FROM json_each(j.errors) e WHERE json_extract(e.value, '$.error') LIKE 'lease expired%')
                """, on: db)
            #expect(unexplained == 0)
            // The jobs running at the kill were reclaimed when their leases expired. (Whether one
            // ran twice depends on whether its handler had started: on a loaded machine a killed
            // worker may hold only claims whose handlers had not begun.)
            let reclaimed = try await count("SELECT COUNT(*) AS n FROM queue_jobs WHERE errors LIKE '%lease expired%'", on: db)
            #expect(reclaimed > 0, "the kill interrupted running jobs, whose leases were reclaimed")
        }
        try await store.close()
    }

    @Test("a worker killed between a job's effect and its acknowledgement: the job runs again, its effect stays single")
    func killedBetweenEffectAndAcknowledgement() async throws {
        defer { try? FileManager.default.removeItem(atPath: dataDir) }
        let enqueue = try await AgoraProcess.run(["jobs", "probe", "--count", "1", "--pause-after-effect-millis", "600000"],
                                                 dataDir: dataDir, environment: environment)
        #expect(enqueue.status == 0, "\(enqueue.output)")
        let store = try await openStore()

        let first = try startWorker()
        #expect(try await waitUntil(store) { try await count("SELECT COUNT(*) AS n FROM queue_probe_effects", on: $0) == 1 })
        try await kill(first, SIGKILL)
        #expect(try await store.read { try await count("SELECT COUNT(*) AS n FROM queue_jobs WHERE state = 'running'", on: $0) } == 1)

        let second = try startWorker()
        let completed = try await waitUntil(store) {
            try await count("SELECT COUNT(*) AS n FROM queue_jobs WHERE state = 'completed'", on: $0) == 1
        }
        try await kill(second, SIGTERM)
        #expect(completed)
        try await store.read { db in
            #expect(try await count("SELECT COUNT(*) AS n FROM queue_probe_effects", on: db) == 1)
            #expect(try await count("SELECT COUNT(*) AS n FROM queue_probe_runs", on: db) == 2)
            let job = try await db.raw("SELECT attempt, errors FROM queue_jobs").first()
            #expect(try job?.decode(column: "attempt", as: Int.self) == 2, "the lost run counts as an attempt")
            #expect(try job?.decode(column: "errors", as: String.self).contains("lease expired") == true)
        }
        try await store.close()
    }
}
