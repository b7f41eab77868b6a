import Storage

/// A job enqueued on every slot of a cron expression.
///
/// Each slot fires once however many worker processes run: firing inserts a unique
/// (schedule, slot) row in the same transaction as the job, and only one process can.
///
/// **Catch-up rule.** After downtime (no worker running across one or more slots), a schedule
/// fires once, for the latest slot it missed, and then resumes on its regular slots: missed runs
/// are coalesced, never replayed one by one. A schedule seen for the first time starts with its
/// next slot.
public struct RecurringSchedule: Sendable {
    /// Unique among schedules; stored with each fired slot, so keep it stable.
    public let name: String
    public let cron: CronExpression
    /// The job to enqueue at each slot.
    public let job: NewJob
}

extension JobRegistry {
    /// Enqueues `job` with `options` on every slot of `cron` (UTC), in any process running a worker.
    public func schedule<J: Job>(_ name: String, cron: String, job: J, options: EnqueueOptions = EnqueueOptions()) throws {
        let expression = try CronExpression(cron)
        addSchedule(RecurringSchedule(name: name, cron: expression, job: try newJob(job, options: options)))
    }
}
