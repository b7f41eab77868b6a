import SQLKit
import Storage

/// `QueueProbeRepository` over SQLKit; the SQL is the same on every engine.
struct SQLQueueProbeRepository: QueueProbeRepository {
    func recordRun(jobID: Int64, attempt: Int, at time: Timestamp, on db: any SQLDatabase) async throws {
        try await db.raw("""
            INSERT INTO queue_probe_runs (job_id, attempt, started_at)
            VALUES (\(bind: jobID), \(bind: attempt), \(bind: time.milliseconds))
            """).run()
    }

    func applyEffect(idempotencyKey: String, jobID: Int64, attempt: Int, at time: Timestamp, on db: any SQLDatabase) async throws {
        try await db.raw("""
            INSERT INTO queue_probe_effects (idempotency_key, job_id, attempt, applied_at)
            VALUES (\(bind: idempotencyKey), \(bind: jobID), \(bind: attempt), \(bind: time.milliseconds))
            ON CONFLICT (idempotency_key) DO NOTHING
            """).run()
    }
}
