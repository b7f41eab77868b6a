import Foundation
import SQLKit
import Storage

/// What the SQLite and PostgreSQL drivers share: the statements that read the same in both
/// dialects, and the decoding of job rows. Each driver keeps what differs (claims, wake-ups).
enum QueueSQL {
    static func saveSubscriptions(_ subscriptions: [TopicSubscription], on db: any SQLDatabase) async throws {
        for subscription in subscriptions {
            try await db.raw("""
                INSERT INTO queue_subscriptions (topic, subscriber_group, job_kind, queue, max_attempts)
                VALUES (\(bind: subscription.topic), \(bind: subscription.group), \(bind: subscription.jobKind),
                        \(bind: subscription.queue), \(bind: subscription.maxAttempts))
                ON CONFLICT (topic, subscriber_group) DO UPDATE
                SET job_kind = excluded.job_kind, queue = excluded.queue, max_attempts = excluded.max_attempts
                """).run()
        }
    }

    static func lastFiredSlot(schedule: String, on db: any SQLDatabase) async throws -> Timestamp? {
        try await db.raw("SELECT MAX(slot) AS slot FROM queue_schedule_slots WHERE schedule = \(bind: schedule)")
            .first()?.decode(column: "slot", as: Int64?.self).map(Timestamp.init(milliseconds:))
    }

    /// Records the slot and enqueues its job with `insert`, in the caller's transaction; nil if
    /// the slot had fired already. Instances firing the same slot at once: the later INSERT waits
    /// for the earlier's commit (PostgreSQL) or runs after it (SQLite's single writer), then does nothing.
    static func fireScheduleSlot(schedule: String, slot: Timestamp, on db: any SQLDatabase,
                                 insert: () async throws -> EnqueuedJob) async throws -> EnqueuedJob? {
        let claimed = try await db.raw("""
            INSERT INTO queue_schedule_slots (schedule, slot, job_id, fired_at)
            VALUES (\(bind: schedule), \(bind: slot.milliseconds), 0, \(bind: Timestamp.now.milliseconds))
            ON CONFLICT (schedule, slot) DO NOTHING
            RETURNING slot
            """).first()
        guard claimed != nil else { return nil }
        let enqueued = try await insert()
        try await db.raw("""
            UPDATE queue_schedule_slots SET job_id = \(bind: enqueued.id)
            WHERE schedule = \(bind: schedule) AND slot = \(bind: slot.milliseconds)
            """).run()
        return enqueued
    }

    static func discard(_ id: JobID, on db: any SQLDatabase) async throws -> Bool {
        try await db.raw("DELETE FROM queue_jobs WHERE id = \(bind: id) AND state IN ('dead', 'cancelled') RETURNING id").first() != nil
    }

    static func counts(on db: any SQLDatabase) async throws -> [QueueCount] {
        try await db.raw("SELECT queue, state, COUNT(*) AS n FROM queue_jobs GROUP BY queue, state ORDER BY queue, state").all()
            .compactMap { row in
                guard let state = JobState(rawValue: try row.decode(column: "state", as: String.self)) else { return nil }
                return QueueCount(queue: try row.decode(column: "queue", as: String.self), state: state,
                                  count: try row.decode(column: "n", as: Int.self))
            }
    }

    static func pruneFinished(before cutoff: Timestamp, on db: any SQLDatabase) async throws -> Int {
        // Fired schedule slots too, but each schedule's latest: it anchors the catch-up rule.
        try await db.raw("""
            DELETE FROM queue_schedule_slots
            WHERE fired_at < \(bind: cutoff.milliseconds)
              AND slot < (SELECT MAX(slot) FROM queue_schedule_slots latest WHERE latest.schedule = queue_schedule_slots.schedule)
            """).run()
        return try await db.raw("""
            DELETE FROM queue_jobs WHERE state IN ('completed', 'cancelled') AND finished_at < \(bind: cutoff.milliseconds)
            RETURNING id
            """).all().count
    }

    /// Claimed rows as jobs, in claim order (highest priority, then earliest, then oldest).
    static func claimed(_ rows: [any SQLRow]) throws -> [ClaimedJob] {
        inClaimOrder(try rows.map { row in
            ClaimedJob(
                lease: JobLease(id: try row.decode(column: "id", as: JobID.self),
                                token: try row.decode(column: "lease_token", as: Int64.self)),
                kind: try row.decode(column: "kind", as: String.self),
                queue: try row.decode(column: "queue", as: String.self),
                payload: try row.decode(column: "payload", as: String.self),
                attempt: try row.decode(column: "attempt", as: Int.self),
                maxAttempts: try row.decode(column: "max_attempts", as: Int.self),
                createdAt: Timestamp(milliseconds: try row.decode(column: "created_at", as: Int64.self)),
                priority: try row.decode(column: "priority", as: Int.self),
                runAt: Timestamp(milliseconds: try row.decode(column: "run_at", as: Int64.self)))
        })
    }

    /// Claimed jobs in the order they are handed out: priority first, then run time, then age
    /// (a claim's RETURNING gives its rows in no particular order).
    static func inClaimOrder(_ jobs: [ClaimedJob]) -> [ClaimedJob] {
        jobs.sorted { a, b in
            if a.priority != b.priority { return a.priority > b.priority }
            if a.runAt != b.runAt { return a.runAt < b.runAt }
            return a.id < b.id
        }
    }

    /// A `queue_jobs` row (every column) as a record.
    static func record(_ row: any SQLRow) throws -> JobRecord {
        let errors = try row.decode(column: "errors", as: String.self)
        return JobRecord(
            id: try row.decode(column: "id", as: JobID.self),
            kind: try row.decode(column: "kind", as: String.self),
            queue: try row.decode(column: "queue", as: String.self),
            state: JobState(rawValue: try row.decode(column: "state", as: String.self)) ?? .dead,
            payload: try row.decode(column: "payload", as: String.self),
            priority: try row.decode(column: "priority", as: Int.self),
            attempt: try row.decode(column: "attempt", as: Int.self),
            maxAttempts: try row.decode(column: "max_attempts", as: Int.self),
            runAt: Timestamp(milliseconds: try row.decode(column: "run_at", as: Int64.self)),
            createdAt: Timestamp(milliseconds: try row.decode(column: "created_at", as: Int64.self)),
            finishedAt: try row.decode(column: "finished_at", as: Int64?.self).map(Timestamp.init(milliseconds:)),
            uniqueKey: try row.decode(column: "unique_key", as: String?.self),
            lastError: try row.decode(column: "last_error", as: String?.self),
            errors: try JSONDecoder().decode([StoredAttemptError].self, from: Data(errors.utf8)).map {
                JobAttemptError(attempt: $0.attempt, at: Timestamp(milliseconds: $0.at), error: $0.error)
            })
    }

    /// An element of the `errors` JSON column.
    private struct StoredAttemptError: Decodable {
        let attempt: Int
        let at: Int64
        let error: String
    }
}
