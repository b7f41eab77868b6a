import Queue
import SQLKit
import Storage

/// A diagnostic job that proves the queue end to end on a live installation (`agora jobs probe`)
/// and in the crash tests: each execution is logged, and its effect is applied once per
/// idempotency key, however often the job runs.
public struct QueueProbeJob: Job {
    public static let name = "agora.queue-probe"
    /// Time spent "working" before the effect.
    public var workMillis: Int
    /// Time between the effect and the acknowledgement on the first execution only: a window to
    /// kill the worker in, after which a rescued run goes straight through.
    public var pauseAfterEffectMillis: Int

    public init(workMillis: Int = 0, pauseAfterEffectMillis: Int = 0) {
        self.workMillis = workMillis
        self.pauseAfterEffectMillis = pauseAfterEffectMillis
    }

    static func register(in registry: JobRegistry, database: any Database) {
        registry.register(QueueProbeJob.self, queue: "default") { job, context in
            try await database.transaction { db in
                try await db.raw("""
                    INSERT INTO queue_probe_runs (job_id, attempt, started_at)
                    VALUES (\(bind: context.id), \(bind: context.attempt), \(bind: Timestamp.now.milliseconds))
                    """).run()
            }
            if job.workMillis > 0 { try await Task.sleep(for: .milliseconds(job.workMillis)) }
            try await database.transaction { db in
                try await db.raw("""
                    INSERT INTO queue_probe_effects (idempotency_key, job_id, attempt, applied_at)
                    VALUES (\(bind: context.idempotencyKey), \(bind: context.id), \(bind: context.attempt), \(bind: Timestamp.now.milliseconds))
                    ON CONFLICT (idempotency_key) DO NOTHING
                    """).run()
            }
            if job.pauseAfterEffectMillis > 0, context.attempt == 1 {
                try await Task.sleep(for: .milliseconds(job.pauseAfterEffectMillis))
            }
        }
    }
}
