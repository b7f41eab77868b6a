import Logging
import Storage

/// Fires recurring schedules: what is due now, by the catch-up rule of `RecurringSchedule`.
/// Every worker process runs one; the store lets each slot fire only once.
struct ScheduleRunner: Sendable {
    let driver: any QueueDriver
    let schedules: [RecurringSchedule]
    let logger: Logger
    /// The clock (a parameter so that tests can move time).
    let now: @Sendable () -> Timestamp

    /// The next slot of each schedule, keyed by name.
    typealias NextSlots = [String: Timestamp]

    /// Where each schedule stands: after its last fired slot, or (never fired) after now.
    func start() async throws -> NextSlots {
        var next: NextSlots = [:]
        for schedule in schedules {
            let after = try await driver.lastFiredSlot(schedule: schedule.name) ?? now()
            next[schedule.name] = schedule.cron.next(after: after)
        }
        return next
    }

    /// Fires every schedule whose next slot has come (only its latest due slot, if several have)
    /// and advances it past now. Returns when the earliest next slot comes.
    func fireDue(_ next: inout NextSlots) async -> Timestamp? {
        let current = now()
        for schedule in schedules {
            guard var slot = next[schedule.name], slot <= current else { continue }
            // Missed slots are coalesced: only the latest one due fires.
            var steps = 0
            while let following = schedule.cron.next(after: slot), following <= current, steps < 1_000_000 {
                slot = following
                steps += 1
            }
            var job = schedule.job
            job.runAt = slot
            do {
                if let job = try await driver.fireScheduleSlot(schedule: schedule.name, slot: slot, job: job) {
                    logger.debug("schedule fired", metadata: ["schedule": "\(schedule.name)", "slot": "\(slot.iso8601)", "job": "\(job.id)"])
                }
                next[schedule.name] = schedule.cron.next(after: slot)
            } catch {
                // Tried again at the next tick.
                logger.error("firing a schedule failed", metadata: ["schedule": "\(schedule.name)", "error": "\(error)"])
            }
        }
        return next.values.min()
    }
}
