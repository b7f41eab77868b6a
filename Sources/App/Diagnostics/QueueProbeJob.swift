import Queue
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

    static func register(in registry: JobRegistry, database: any Database,
                         probes: any QueueProbeRepository = SQLQueueProbeRepository()) {
        registry.register(QueueProbeJob.self, queue: "default") { job, context in
            try await database.transaction { db in
                try await probes.recordRun(jobID: context.id, attempt: context.attempt, at: .now, on: db)
            }
            if job.workMillis > 0 { try await Task.sleep(for: .milliseconds(job.workMillis)) }
            try await database.transaction { db in
                try await probes.applyEffect(idempotencyKey: context.idempotencyKey, jobID: context.id,
                                             attempt: context.attempt, at: .now, on: db)
            }
            if job.pauseAfterEffectMillis > 0, context.attempt == 1 {
                try await Task.sleep(for: .milliseconds(job.pauseAfterEffectMillis))
            }
        }
    }
}
