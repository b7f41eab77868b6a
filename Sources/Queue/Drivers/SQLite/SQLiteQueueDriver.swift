import Foundation
import SQLKit
import Storage
import Synchronization

/// The queue on embedded SQLite, in the app's own database file, through its single writer.
///
/// Sharing the app's file is what makes transactional enqueue possible (the job is a row in the
/// caller's transaction). Claims, acknowledgements and heartbeats are transactions of the store's
/// group commit, so concurrent workers share commits.
public final class SQLiteQueueDriver: QueueDriver {
    public let arrivals = JobArrivals()
    private let store: SQLiteStore
    /// Queues that got jobs in transactions not yet committed; signalled after the next commit.
    private let insertedQueues = Mutex<Set<String>>([])

    public init(store: SQLiteStore) {
        self.store = store
        store.addCommitObserver { [weak self] in self?.signalInsertedQueues() }
    }

    /// Runs on the writer after each commit: the jobs inserted so far are committed, or rolled back
    /// (then the wake-up finds nothing, which is harmless).
    private func signalInsertedQueues() {
        let queues = insertedQueues.withLock { queues -> Set<String> in
            defer { queues.removeAll(keepingCapacity: true) }
            return queues
        }
        if !queues.isEmpty { arrivals.signal(queues) }
    }

    public func migrate() async throws {
        try await Migrator(migrations: QueueMigrations.all, historyTable: "queue_migrations")
            .migrate(store, logger: store.logger)
    }

    public func insert(_ jobs: [NewJob]) async throws -> [EnqueuedJob] {
        try await store.transaction { db in try await self.insert(jobs, on: db) }
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
            let row = try await db.raw("""
                INSERT INTO queue_jobs (kind, queue, payload, state, priority, max_attempts, run_at, created_at, unique_key)
                VALUES (\(bind: job.kind), \(bind: job.queue), \(bind: job.payload), 'pending', \(bind: job.priority),
                        \(bind: job.maxAttempts), \(bind: job.runAt.milliseconds), \(bind: now), \(bind: job.uniqueKey))
                ON CONFLICT (unique_key) WHERE unique_key IS NOT NULL AND state IN ('pending', 'running') DO NOTHING
                RETURNING id
                """).first()
            if let row {
                enqueued.append(EnqueuedJob(id: try row.decode(column: "id", as: JobID.self), isExisting: false))
            } else {
                let existing = try await db.raw("""
                    SELECT id FROM queue_jobs WHERE unique_key = \(bind: job.uniqueKey) AND state IN ('pending', 'running')
                    """).first()
                guard let existing else { throw StorageInvariant("a unique key conflicted with no live job") }
                enqueued.append(EnqueuedJob(id: try existing.decode(column: "id", as: JobID.self), isExisting: true))
            }
        }
        let queues = Set(jobs.map(\.queue))
        insertedQueues.withLock { $0.formUnion(queues) }
        return enqueued
    }

    /// Rows per multi-row INSERT.
    private static let insertChunk = 64

    /// Inserts jobs that have no unique key in one statement and returns their ids in order (the
    /// ids of one INSERT are consecutive and follow the order of its rows).
    private func insertWithoutKeys(_ jobs: ArraySlice<NewJob>, now: Int64, on db: any SQLDatabase) async throws -> [EnqueuedJob] {
        let rows = SQLList(jobs.map { job in
            SQLGroupExpression([SQLBind(job.kind), SQLBind(job.queue), SQLBind(job.payload), SQLRaw("'pending'"),
                                SQLBind(job.priority), SQLBind(job.maxAttempts), SQLBind(job.runAt.milliseconds),
                                SQLBind(now)] as [any SQLExpression])
        })
        let ids = try await db.raw("""
            INSERT INTO queue_jobs (kind, queue, payload, state, priority, max_attempts, run_at, created_at)
            VALUES \(rows)
            RETURNING id
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
        let rows = try await db.raw("""
            INSERT INTO queue_jobs (kind, queue, payload, state, priority, max_attempts, run_at, created_at)
            SELECT job_kind, queue, \(bind: payload), 'pending', 0, max_attempts, \(bind: now), \(bind: now)
            FROM queue_subscriptions WHERE topic = \(bind: topic)
            RETURNING id, queue
            """).all()
        guard !rows.isEmpty else { return [] }
        let queues = Set(try rows.map { try $0.decode(column: "queue", as: String.self) })
        insertedQueues.withLock { $0.formUnion(queues) }
        return try rows.map { EnqueuedJob(id: try $0.decode(column: "id", as: JobID.self), isExisting: false) }.sorted { $0.id < $1.id }
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
        let expires = now.adding(leaseFor).milliseconds
        let rows = try await store.transaction { db in
            try await db.raw("""
                UPDATE queue_jobs
                SET state = 'running', attempt = attempt + 1, lease_token = lease_token + 1,
                    lease_expires_at = \(bind: expires), started_at = \(bind: now.milliseconds)
                WHERE id IN (
                    SELECT id FROM queue_jobs
                    WHERE state = 'pending' AND queue = \(bind: queue) AND run_at <= \(bind: now.milliseconds)
                    ORDER BY priority DESC, run_at, id
                    LIMIT \(bind: limit))
                  AND NOT EXISTS (SELECT 1 FROM queue_paused WHERE queue = \(bind: queue))
                RETURNING id, lease_token, kind, queue, payload, attempt, max_attempts, created_at, priority, run_at
                """).all()
        }
        return try QueueSQL.claimed(rows)
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

    public func complete(_ leases: [JobLease]) async throws -> Set<JobID> {
        guard !leases.isEmpty else { return [] }
        let now = Timestamp.now.milliseconds
        return try await store.transaction { db in
            var accepted = Set<JobID>()
            for lease in leases {
                let row = try await db.raw("""
                    UPDATE queue_jobs SET state = 'completed', finished_at = \(bind: now), lease_expires_at = NULL
                    WHERE id = \(bind: lease.id) AND lease_token = \(bind: lease.token) AND state = 'running'
                    RETURNING id
                    """).first()
                if row != nil { accepted.insert(lease.id) }
            }
            return accepted
        }
    }

    public func fail(_ lease: JobLease, error: String, retryAt: Timestamp?) async throws -> Bool {
        let now = Timestamp.now.milliseconds
        let state = retryAt == nil ? "dead" : "pending"
        let finishedAt: Int64? = retryAt == nil ? now : nil
        let runAt = retryAt?.milliseconds
        let queue = try await store.transaction { db in
            try await db.raw("""
                UPDATE queue_jobs
                SET state = \(bind: state), run_at = COALESCE(\(bind: runAt), run_at), finished_at = \(bind: finishedAt),
                    lease_expires_at = NULL, last_error = \(bind: error),
                    errors = json_insert(errors, '$[#]', json_object('attempt', attempt, 'at', \(bind: now), 'error', \(bind: error)))
                WHERE id = \(bind: lease.id) AND lease_token = \(bind: lease.token) AND state = 'running'
                RETURNING queue
                """).first()?.decode(column: "queue", as: String.self)
        }
        // A retry changes when the queue's next job is due: idle workers look again.
        if let queue, retryAt != nil { arrivals.signal([queue]) }
        return queue != nil
    }

    public func renewLeases(_ leases: [JobLease], leaseFor: Duration) async throws -> Set<JobID> {
        guard !leases.isEmpty else { return [] }
        let expires = Timestamp.now.adding(leaseFor).milliseconds
        return try await store.transaction { db in
            var held = Set<JobID>()
            for lease in leases {
                let row = try await db.raw("""
                    UPDATE queue_jobs SET lease_expires_at = \(bind: expires)
                    WHERE id = \(bind: lease.id) AND lease_token = \(bind: lease.token) AND state = 'running'
                    RETURNING id
                    """).first()
                if row != nil { held.insert(lease.id) }
            }
            return held
        }
    }

    public func release(_ leases: [JobLease]) async throws {
        guard !leases.isEmpty else { return }
        let released = try await store.transaction { db in
            var queues = Set<String>()
            for lease in leases {
                let row = try await db.raw("""
                    UPDATE queue_jobs SET state = 'pending', attempt = attempt - 1, lease_expires_at = NULL
                    WHERE id = \(bind: lease.id) AND lease_token = \(bind: lease.token) AND state = 'running'
                    RETURNING queue
                    """).first()
                if let row { queues.insert(try row.decode(column: "queue", as: String.self)) }
            }
            return queues
        }
        arrivals.signal(released)
    }

    public func rescueExpiredLeases() async throws -> Int {
        let now = Timestamp.now.milliseconds
        let rescued = try await store.transaction { db in
            try await db.raw("""
                UPDATE queue_jobs
                SET state = CASE WHEN attempt >= max_attempts THEN 'dead' ELSE 'pending' END,
                    finished_at = CASE WHEN attempt >= max_attempts THEN \(bind: now) END,
                    run_at = \(bind: now), lease_expires_at = NULL, last_error = 'lease expired (worker lost)',
                    errors = json_insert(errors, '$[#]', json_object('attempt', attempt, 'at', \(bind: now),
                                                                    'error', 'lease expired (worker lost)'))
                WHERE state = 'running' AND lease_expires_at < \(bind: now)
                RETURNING queue
                """).all().map { try $0.decode(column: "queue", as: String.self) }
        }
        arrivals.signal(Set(rescued))
        return rescued.count
    }

    public func cancel(_ id: JobID) async throws -> Bool {
        let now = Timestamp.now.milliseconds
        return try await store.transaction { db in
            try await db.raw("""
                UPDATE queue_jobs SET state = 'cancelled', finished_at = \(bind: now), lease_expires_at = NULL
                WHERE id = \(bind: id) AND state IN ('pending', 'running')
                RETURNING id
                """).first() != nil
        }
    }

    public func pause(queue: String) async throws {
        let now = Timestamp.now.milliseconds
        try await store.transaction { db in
            try await db.raw("INSERT INTO queue_paused (queue, paused_at) VALUES (\(bind: queue), \(bind: now)) ON CONFLICT (queue) DO NOTHING").run()
        }
    }

    public func resume(queue: String) async throws {
        try await store.transaction { db in
            try await db.raw("DELETE FROM queue_paused WHERE queue = \(bind: queue)").run()
        }
        arrivals.signal([queue])
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
        try await store.read { db in
            try await db.raw("""
                SELECT * FROM queue_jobs
                WHERE (\(bind: state?.rawValue) IS NULL OR state = \(bind: state?.rawValue))
                  AND (\(bind: queue) IS NULL OR queue = \(bind: queue)) AND id < \(bind: before ?? .max)
                ORDER BY id DESC LIMIT \(bind: limit)
                """).all().map(QueueSQL.record)
        }
    }

    public func retry(_ id: JobID) async throws -> Bool {
        let now = Timestamp.now.milliseconds
        let queue = try await store.transaction { db in
            try await db.raw("""
                UPDATE queue_jobs SET state = 'pending', attempt = 0, run_at = \(bind: now), finished_at = NULL
                WHERE id = \(bind: id) AND state IN ('dead', 'cancelled')
                RETURNING queue
                """).first()?.decode(column: "queue", as: String.self)
        }
        if let queue { arrivals.signal([queue]) }
        return queue != nil
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
