import Foundation
import Logging
import PostgresNIO
import SQLKit
import Storage
import Synchronization

/// The queue on a PostgreSQL server shared by several instances, in the app's own database.
///
/// Claims: one statement locks a batch of due jobs with `FOR UPDATE SKIP LOCKED` and marks them
/// running, so workers of every instance claim at once and never take the same job (a row another
/// claim holds is skipped, not waited for).
///
/// Fencing, as on SQLite: every claim bumps the job's `lease_token`, and every acknowledgement,
/// renewal, failure and release names the token it holds, so a worker whose lease expired and was
/// reclaimed elsewhere cannot overwrite the new holder's outcome.
///
/// Wake-ups: every statement that makes a job claimable (insert, publish, a failure to retry later,
/// retry, release, rescue, resume) also calls `pg_notify('agora_queue', queue)` for it. PostgreSQL delivers the
/// notification on commit, to every instance, so a job enqueued inside the app's transaction wakes
/// workers only once it exists, and a rolled-back one wakes nobody; identical notifications of one
/// transaction are delivered once. `migrate()` subscribes this driver to the channel (every
/// process migrates at start-up, before its workers run): each notification signals `arrivals`
/// for its queue, and after the listener reconnects, every queue with pending jobs is signalled,
/// since notifications sent while it was away are lost. The workers' poll stays as a safety net.
public final class PostgresQueueDriver: QueueDriver {
    public let arrivals = JobArrivals()
    private let store: PostgresStore
    private let listening = Atomic<Bool>(false)
    /// Jobs this process claimed since it last vacuumed `queue_jobs`, and whether a vacuum runs.
    private let claimedSinceVacuum = Atomic<Int>(0)
    private let vacuuming = Atomic<Bool>(false)
    /// After this many claims, this process vacuums `queue_jobs` (see `vacuumAfterChurn`).
    let vacuumAfterClaims: Int

    /// Two claims in flight while a backlog lasts: one claim is a round trip plus its planning and
    /// index scan on the server, during which a single claimer leaves freed slots idle.
    public var overlappingClaims: Int { 2 }

    /// The notification channel; each payload is a queue's name.
    static let channel = "agora_queue"

    public init(store: PostgresStore, vacuumAfterClaims: Int = 20_000) {
        self.store = store
        self.vacuumAfterClaims = vacuumAfterClaims
    }

    /// Applies the queue's migrations, then listens for wake-ups (once per driver); returns when
    /// the listener is up, so a job committed afterwards wakes this process's workers.
    public func migrate() async throws {
        try await Migrator(migrations: QueueMigrations.all, historyTable: "queue_migrations")
            .migrate(store, logger: store.logger)
        guard listening.compareExchange(expected: false, desired: true, ordering: .sequentiallyConsistent).exchanged else { return }
        do {
            try await store.listener.subscribe(
                channel: Self.channel,
                notify: { [arrivals] queue in arrivals.signal(CollectionOfOne(queue)) },
                resume: { [weak self] in self?.signalPendingQueues() })
        } catch {
            listening.store(false, ordering: .sequentiallyConsistent)
            throw error
        }
    }

    /// After the listener reconnects: wakes the workers of every queue that has pending jobs, as
    /// the notifications of jobs committed while it was away are lost.
    private func signalPendingQueues() {
        Task { [store, arrivals] in
            do {
                let queues = try await store.read { db in
                    try await db.raw("SELECT DISTINCT queue FROM queue_jobs WHERE state = 'pending'").all()
                        .map { try $0.decode(column: "queue", as: String.self) }
                }
                arrivals.signal(queues)
            } catch {
                // The workers' poll finds the jobs instead.
                store.logger.warning("looking for pending jobs after the listener reconnected failed",
                                     metadata: ["error": "\(error)"])
            }
        }
    }

    public func insert(_ jobs: [NewJob]) async throws -> [EnqueuedJob] {
        // Up to one chunk of jobs without unique keys is one statement, atomic by itself.
        if jobs.count <= Self.insertChunk, jobs.allSatisfy({ $0.uniqueKey == nil }) {
            return try await store.autocommit { db in try await self.insert(jobs, on: db) }
        }
        return try await store.transaction { db in try await self.insert(jobs, on: db) }
    }

    public func insert(_ jobs: [NewJob], on db: any SQLDatabase) async throws -> [EnqueuedJob] {
        let now = Timestamp.now.milliseconds
        var enqueued: [EnqueuedJob] = []
        enqueued.reserveCapacity(jobs.count)
        var index = jobs.startIndex
        while index < jobs.endIndex {
            let job = jobs[index]
            if job.uniqueKey == nil {
                // Jobs without a unique key go in many at a time: one statement per chunk.
                var end = index
                while end < jobs.endIndex, end - index < Self.insertChunk, jobs[end].uniqueKey == nil { end += 1 }
                enqueued += try await insertWithoutKeys(jobs[index..<end], now: now, on: db)
                index = end
                continue
            }
            index += 1
            enqueued.append(try await insertWithKey(job, now: now, on: db))
        }
        return enqueued
    }

    /// Inserts a job with a unique key, or returns the live job holding the key.
    ///
    /// A transaction inserting the same key concurrently makes this INSERT wait for its outcome,
    /// then do nothing; the SELECT (a newer snapshot) sees its job. Unlike on SQLite's single
    /// writer, that job may finish between the two statements and free the key: then insert again.
    private func insertWithKey(_ job: NewJob, now: Int64, on db: any SQLDatabase) async throws -> EnqueuedJob {
        while true {
            let row = try await db.raw("""
                INSERT INTO queue_jobs (kind, queue, payload, state, priority, max_attempts, run_at, created_at, unique_key)
                VALUES (\(bind: job.kind), \(bind: job.queue), \(bind: job.payload), 'pending', \(bind: job.priority),
                        \(bind: job.maxAttempts), \(bind: job.runAt.milliseconds), \(bind: now), \(bind: job.uniqueKey))
                ON CONFLICT (unique_key) WHERE unique_key IS NOT NULL AND state IN ('pending', 'running') DO NOTHING
                RETURNING id, pg_notify(\(literal: Self.channel), queue)
                """).first()
            if let row { return EnqueuedJob(id: try row.decode(column: "id", as: JobID.self), isExisting: false) }
            let existing = try await db.raw("""
                SELECT id FROM queue_jobs WHERE unique_key = \(bind: job.uniqueKey) AND state IN ('pending', 'running')
                """).first()
            if let existing { return EnqueuedJob(id: try existing.decode(column: "id", as: JobID.self), isExisting: true) }
        }
    }

    /// Rows per multi-row INSERT.
    private static let insertChunk = 64

    /// Inserts jobs that have no unique key in one statement and returns their ids in order (each
    /// row of one INSERT takes the identity's next value in turn, so its ids ascend with its rows).
    private func insertWithoutKeys(_ jobs: ArraySlice<NewJob>, now: Int64, on db: any SQLDatabase) async throws -> [EnqueuedJob] {
        let rows = SQLList(jobs.map { job in
            SQLGroupExpression([SQLBind(job.kind), SQLBind(job.queue), SQLBind(job.payload), SQLRaw("'pending'"),
                                SQLBind(job.priority), SQLBind(job.maxAttempts), SQLBind(job.runAt.milliseconds),
                                SQLBind(now)] as [any SQLExpression])
        })
        let ids = try await db.raw("""
            INSERT INTO queue_jobs (kind, queue, payload, state, priority, max_attempts, run_at, created_at)
            VALUES \(rows)
            RETURNING id, pg_notify(\(literal: Self.channel), queue)
            """).all().map { try $0.decode(column: "id", as: JobID.self) }.sorted()
        guard ids.count == jobs.count else {
            throw StorageInvariant("a multi-row INSERT returned \(ids.count) ids for \(jobs.count) rows")
        }
        return ids.map { EnqueuedJob(id: $0, isExisting: false) }
    }

    public func saveSubscriptions(_ subscriptions: [TopicSubscription]) async throws {
        guard !subscriptions.isEmpty else { return }
        try await store.transaction { db in try await QueueSQL.saveSubscriptions(subscriptions, on: db) }
    }

    public func publish(topic: String, payload: String) async throws -> [EnqueuedJob] {
        try await store.transaction { db in try await self.publish(topic: topic, payload: payload, on: db) }
    }

    public func publish(topic: String, payload: String, on db: any SQLDatabase) async throws -> [EnqueuedJob] {
        let now = Timestamp.now.milliseconds
        return try await db.raw("""
            INSERT INTO queue_jobs (kind, queue, payload, state, priority, max_attempts, run_at, created_at)
            SELECT job_kind, queue, \(bind: payload), 'pending', 0, max_attempts, \(bind: now), \(bind: now)
            FROM queue_subscriptions WHERE topic = \(bind: topic)
            RETURNING id, pg_notify(\(literal: Self.channel), queue)
            """).all().map { EnqueuedJob(id: try $0.decode(column: "id", as: JobID.self), isExisting: false) }.sorted { $0.id < $1.id }
    }

    public func lastFiredSlot(schedule: String) async throws -> Timestamp? {
        try await store.read { db in try await QueueSQL.lastFiredSlot(schedule: schedule, on: db) }
    }

    public func fireScheduleSlot(schedule: String, slot: Timestamp, job: NewJob) async throws -> EnqueuedJob? {
        try await store.transaction { db in
            try await QueueSQL.fireScheduleSlot(schedule: schedule, slot: slot, on: db) { try await self.insert([job], on: db)[0] }
        }
    }

    public func claimNextJobs(queue: String, limit: Int, leaseFor: Duration) async throws -> [ClaimedJob] {
        guard limit > 0 else { return [] }
        let now = Timestamp.now
        let rows = try await store.execute(ClaimJobs(queue: queue, limit: limit, now: now.milliseconds,
                                                     expires: now.adding(leaseFor).milliseconds))
        vacuumAfterChurn(claimed: rows.count)
        return QueueSQL.inClaimOrder(rows.map { row in
            ClaimedJob(lease: JobLease(id: row.0, token: row.1), kind: row.2, queue: row.3, payload: row.4,
                       attempt: Int(row.5), maxAttempts: Int(row.6), createdAt: Timestamp(milliseconds: row.7),
                       priority: Int(row.8), runAt: Timestamp(milliseconds: row.9))
        })
    }

    /// Vacuums `queue_jobs` in the background once this process has claimed `vacuumAfterClaims`
    /// jobs since the last time.
    ///
    /// Every claim moves jobs out of the claim index's predicate, and the entries they leave behind
    /// (at its head, where every claim starts) go only when the table is vacuumed. Autovacuum
    /// visits a database about once a minute; in a burst, each claim meanwhile walks past every
    /// job claimed since (mid-drain, 200–300 index pages to find 50 rows, most of a claim's 1 ms).
    /// `SKIP_LOCKED`: when another instance is vacuuming the table, this one does not wait for it.
    private func vacuumAfterChurn(claimed: Int) {
        guard claimed > 0,
              claimedSinceVacuum.add(claimed, ordering: .relaxed).newValue >= vacuumAfterClaims,
              vacuuming.compareExchange(expected: false, desired: true, ordering: .relaxed).exchanged else { return }
        claimedSinceVacuum.store(0, ordering: .relaxed)
        Task {
            do {
                try await self.store.read { db in try await db.raw("VACUUM (SKIP_LOCKED) queue_jobs").run() }
            } catch {
                self.store.logger.warning("vacuuming queue_jobs failed", metadata: ["error": "\(error)"])
            }
            self.vacuuming.store(false, ordering: .relaxed)
        }
    }

    /// The claim, prepared once per connection.
    ///
    /// SKIP LOCKED passes over rows another claim has locked; a row claimed and committed since
    /// this statement's snapshot is re-read when locked and fails `state = 'pending'`, so it drops
    /// out too. The batch may then come back smaller than `limit`, never with a job twice.
    struct ClaimJobs: PostgresPreparedStatement {
        static let name = "agora_queue_claim"
        static let sql = """
            UPDATE queue_jobs
            SET state = 'running', attempt = attempt + 1, lease_token = lease_token + 1,
                lease_expires_at = $1, started_at = $2
            WHERE id IN (
                SELECT id FROM queue_jobs
                WHERE state = 'pending' AND queue = $3 AND run_at <= $2
                  AND NOT EXISTS (SELECT 1 FROM queue_paused WHERE queue = $3)
                ORDER BY priority DESC, run_at, id
                LIMIT $4
                FOR UPDATE SKIP LOCKED)
            RETURNING id, lease_token, kind, queue, payload, attempt, max_attempts, created_at, priority, run_at
            """
        typealias Row = (Int64, Int64, String, String, String, Int64, Int64, Int64, Int64, Int64)
        let queue: String
        let limit: Int
        let now: Int64
        let expires: Int64

        func makeBindings() throws -> PostgresBindings {
            var bindings = PostgresBindings(capacity: 4)
            bindings.append(expires)
            bindings.append(now)
            bindings.append(queue)
            bindings.append(Int64(limit))
            return bindings
        }

        func decodeRow(_ row: PostgresRow) throws -> Row {
            try row.decode(Row.self)
        }
    }

    public func nextRunAt(queue: String) async throws -> Timestamp? {
        try await store.read { db in
            try await db.raw("""
                SELECT MIN(run_at) AS run_at FROM queue_jobs
                WHERE state = 'pending' AND queue = \(bind: queue)
                  AND NOT EXISTS (SELECT 1 FROM queue_paused WHERE queue = \(bind: queue))
                """).first()?.decode(column: "run_at", as: Int64?.self)
        }.map(Timestamp.init(milliseconds:))
    }

    // Acknowledgements, renewals and releases take every lease in one statement (the leases as
    // two arrays): on a server, each statement is a round trip. Every write below is one statement,
    // so it runs on `autocommit`: one round trip, where BEGIN and COMMIT around it would make three.

    public func complete(_ leases: [JobLease]) async throws -> Set<JobID> {
        guard !leases.isEmpty else { return [] }
        return Set(try await store.execute(CompleteJobs(leases: leases, now: Timestamp.now.milliseconds)))
    }

    /// The acknowledgement of a batch, prepared once per connection.
    struct CompleteJobs: PostgresPreparedStatement {
        static let name = "agora_queue_complete"
        static let sql = """
            UPDATE queue_jobs SET state = 'completed', finished_at = $1, lease_expires_at = NULL
            FROM unnest($2::bigint[], $3::bigint[]) AS lease (id, token)
            WHERE queue_jobs.id = lease.id AND queue_jobs.lease_token = lease.token AND queue_jobs.state = 'running'
            RETURNING queue_jobs.id
            """
        typealias Row = Int64
        let leases: [JobLease]
        let now: Int64

        func makeBindings() throws -> PostgresBindings {
            var bindings = PostgresBindings(capacity: 3)
            bindings.append(now)
            bindings.append(leases.map(\.id))
            bindings.append(leases.map(\.token))
            return bindings
        }

        func decodeRow(_ row: PostgresRow) throws -> Row {
            try row.decode(Int64.self)
        }
    }

    public func fail(_ lease: JobLease, error: String, retryAt: Timestamp?) async throws -> Bool {
        let now = Timestamp.now.milliseconds
        let state = retryAt == nil ? "dead" : "pending"
        let finishedAt: Int64? = retryAt == nil ? now : nil
        let runAt = retryAt?.milliseconds
        // A retry changes when the queue's next job is due: idle workers look again.
        return try await store.autocommit { db in
            try await db.raw("""
                UPDATE queue_jobs
                SET state = \(bind: state), run_at = COALESCE(\(bind: runAt), run_at), finished_at = \(bind: finishedAt),
                    lease_expires_at = NULL, last_error = \(bind: error),
                    errors = (errors::jsonb || jsonb_build_array(jsonb_build_object(
                        'attempt', attempt, 'at', \(bind: now), 'error', \(bind: error))))::text
                WHERE id = \(bind: lease.id) AND lease_token = \(bind: lease.token) AND state = 'running'
                RETURNING id, CASE WHEN state = 'pending' THEN pg_notify(\(literal: Self.channel), queue) END
                """).first() != nil
        }
    }

    public func renewLeases(_ leases: [JobLease], leaseFor: Duration) async throws -> Set<JobID> {
        guard !leases.isEmpty else { return [] }
        let expires = Timestamp.now.adding(leaseFor).milliseconds
        return try await store.autocommit { db in
            Set(try await db.raw("""
                UPDATE queue_jobs SET lease_expires_at = \(bind: expires)
                FROM unnest(\(bind: leases.map(\.id)), \(bind: leases.map(\.token))) AS lease (id, token)
                WHERE queue_jobs.id = lease.id AND queue_jobs.lease_token = lease.token AND queue_jobs.state = 'running'
                RETURNING queue_jobs.id
                """).all().map { try $0.decode(column: "id", as: JobID.self) })
        }
    }

    public func release(_ leases: [JobLease]) async throws {
        guard !leases.isEmpty else { return }
        try await store.autocommit { db in
            try await db.raw("""
                UPDATE queue_jobs SET state = 'pending', attempt = attempt - 1, lease_expires_at = NULL
                FROM unnest(\(bind: leases.map(\.id)), \(bind: leases.map(\.token))) AS lease (id, token)
                WHERE queue_jobs.id = lease.id AND queue_jobs.lease_token = lease.token AND queue_jobs.state = 'running'
                RETURNING queue_jobs.id, pg_notify(\(literal: Self.channel), queue_jobs.queue)
                """).run()
        }
    }

    public func rescueExpiredLeases() async throws -> Int {
        let now = Timestamp.now.milliseconds
        return try await store.autocommit { db in
            try await db.raw("""
                UPDATE queue_jobs
                SET state = CASE WHEN attempt >= max_attempts THEN 'dead' ELSE 'pending' END,
                    finished_at = CASE WHEN attempt >= max_attempts THEN \(bind: now) END,
                    run_at = \(bind: now), lease_expires_at = NULL, last_error = 'lease expired (worker lost)',
                    errors = (errors::jsonb || jsonb_build_array(jsonb_build_object(
                        'attempt', attempt, 'at', \(bind: now), 'error', 'lease expired (worker lost)'::text)))::text
                WHERE state = 'running' AND lease_expires_at < \(bind: now)
                RETURNING id, CASE WHEN state = 'pending' THEN pg_notify(\(literal: Self.channel), queue) END
                """).all().count
        }
    }

    public func cancel(_ id: JobID) async throws -> Bool {
        let now = Timestamp.now.milliseconds
        return try await store.autocommit { db in
            try await db.raw("""
                UPDATE queue_jobs SET state = 'cancelled', finished_at = \(bind: now), lease_expires_at = NULL
                WHERE id = \(bind: id) AND state IN ('pending', 'running')
                RETURNING id
                """).first() != nil
        }
    }

    public func pause(queue: String) async throws {
        let now = Timestamp.now.milliseconds
        try await store.autocommit { db in
            try await db.raw("INSERT INTO queue_paused (queue, paused_at) VALUES (\(bind: queue), \(bind: now)) ON CONFLICT (queue) DO NOTHING").run()
        }
    }

    public func resume(queue: String) async throws {
        try await store.autocommit { db in
            try await db.raw("""
                DELETE FROM queue_paused WHERE queue = \(bind: queue)
                RETURNING pg_notify(\(literal: Self.channel), queue)
                """).run()
        }
    }

    public func pausedQueues() async throws -> Set<String> {
        try await store.read { db in
            Set(try await db.raw("SELECT queue FROM queue_paused").all().map { try $0.decode(column: "queue", as: String.self) })
        }
    }

    public func job(_ id: JobID) async throws -> JobRecord? {
        try await store.read { db in
            try await db.raw("SELECT * FROM queue_jobs WHERE id = \(bind: id)").first().map(QueueSQL.record)
        }
    }

    public func jobs(in state: JobState?, queue: String?, before: JobID?, limit: Int) async throws -> [JobRecord] {
        // A NULL parameter has no type of its own: the casts give it one.
        try await store.read { db in
            try await db.raw("""
                SELECT * FROM queue_jobs
                WHERE (\(bind: state?.rawValue)::text IS NULL OR state = \(bind: state?.rawValue))
                  AND (\(bind: queue)::text IS NULL OR queue = \(bind: queue)) AND id < \(bind: before ?? .max)
                ORDER BY id DESC LIMIT \(bind: limit)
                """).all().map(QueueSQL.record)
        }
    }

    public func retry(_ id: JobID) async throws -> Bool {
        let now = Timestamp.now.milliseconds
        return try await store.autocommit { db in
            try await db.raw("""
                UPDATE queue_jobs SET state = 'pending', attempt = 0, run_at = \(bind: now), finished_at = NULL
                WHERE id = \(bind: id) AND state IN ('dead', 'cancelled')
                RETURNING id, pg_notify(\(literal: Self.channel), queue)
                """).first() != nil
        }
    }

    public func discard(_ id: JobID) async throws -> Bool {
        try await store.transaction { db in try await QueueSQL.discard(id, on: db) }
    }

    public func counts() async throws -> [QueueCount] {
        try await store.read { db in try await QueueSQL.counts(on: db) }
    }

    public func pruneFinished(before cutoff: Timestamp) async throws -> Int {
        try await store.transaction { db in try await QueueSQL.pruneFinished(before: cutoff, on: db) }
    }
}
