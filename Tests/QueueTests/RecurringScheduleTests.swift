import Foundation
import Logging
@testable import Queue
import Storage
import Synchronization
import Testing

@Suite("Recurring schedules")
struct RecurringScheduleTests {
    /// An ISO-8601 UTC time; a malformed one fails the test (and reads as the epoch).
    func at(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> Timestamp {
        do {
            return Timestamp(try Date(text, strategy: .iso8601))
        } catch {
            Issue.record("not an ISO-8601 time: \(text)", sourceLocation: sourceLocation)
            return Timestamp(milliseconds: 0)
        }
    }

    @Test("cron expressions: the next matching minute, in UTC", arguments: [
        ("*/5 * * * *", "2026-11-21T10:31:10Z", "2026-11-21T10:35:00Z"),
        ("*/5 * * * *", "2026-11-21T10:35:00Z", "2026-11-21T10:40:00Z"),
        ("0 0 * * *", "2026-12-31T23:59:00Z", "2027-01-01T00:00:00Z"),
        ("30 9 * * 1-5", "2026-11-21T10:00:00Z", "2026-11-23T09:30:00Z"),  // Saturday → Monday
        ("0 12 1 * 0", "2026-11-21T00:00:00Z", "2026-11-22T12:00:00Z"),    // day 1 OR Sunday
        ("15,45 */6 * 2 *", "2026-11-21T00:00:00Z", "2027-02-01T00:15:00Z"),
        ("0 0 29 2 *", "2026-03-01T00:00:00Z", "2028-02-29T00:00:00Z"),
        ("0 0 * * 7", "2026-11-21T00:00:00Z", "2026-11-22T00:00:00Z"),     // 7 is Sunday too
    ])
    func next(expression: String, after: String, expected: String) throws {
        #expect(try CronExpression(expression).next(after: at(after)) == at(expected))
    }

    @Test("malformed expressions are refused", arguments: ["* * * *", "60 * * * *", "* 24 * * *", "*/0 * * * *", "5-1 * * * *", "a * * * *", "* * 0 * *", "1,,2 * * * *"])
    func invalid(expression: String) {
        #expect(throws: CronExpression.Invalid.self) { try CronExpression(expression) }
    }

    @Test("a never-matching expression has no next time")
    func never() throws {
        #expect(try CronExpression("0 0 31 2 *").next(after: at("2026-01-01T00:00:00Z")) == nil)
    }

    @Test("each slot fires once across processes; a new schedule starts at its next slot; downtime fires the latest missed slot once",
          arguments: DriverKind.allCases)
    func firing(kind: DriverKind) async throws {
        try await withDriver(kind) { driver, _ in
            let registry = JobRegistry()
            try registry.schedule("digest", cron: "*/5 * * * *", job: Probe(label: "digest"), options: EnqueueOptions(queue: "cron"))
            let clock = Mutex(at("2026-11-21T10:31:00Z"))
            func runner() -> ScheduleRunner {
                ScheduleRunner(driver: driver, schedules: registry.schedules, logger: Logger(label: "cron-test"),
                               now: { clock.withLock { $0 } })
            }
            // Two worker processes, both starting now: nothing past fires.
            let first = runner(), second = runner()
            var firstNext = try await first.start(), secondNext = try await second.start()
            #expect(firstNext["digest"] == at("2026-11-21T10:35:00Z"))
            _ = await first.fireDue(&firstNext)
            #expect(try await driver.jobs(in: .pending, queue: "cron", before: nil, limit: 100).isEmpty)

            // The slot comes: both try, one job.
            clock.withLock { $0 = at("2026-11-21T10:35:00.400Z") }
            _ = await first.fireDue(&firstNext)
            _ = await second.fireDue(&secondNext)
            #expect(try await driver.jobs(in: .pending, queue: "cron", before: nil, limit: 100).count == 1)
            #expect(try await driver.lastFiredSlot(schedule: "digest") == at("2026-11-21T10:35:00Z"))

            // Every worker down from 10:36 to 11:02: on restart, the 11:00 slot fires, once.
            clock.withLock { $0 = at("2026-11-21T11:02:30Z") }
            let restarted = runner()
            var restartedNext = try await restarted.start()
            #expect(restartedNext["digest"] == at("2026-11-21T10:40:00Z"))
            let earliest = await restarted.fireDue(&restartedNext)
            #expect(earliest == at("2026-11-21T11:05:00Z"))
            #expect(try await driver.lastFiredSlot(schedule: "digest") == at("2026-11-21T11:00:00Z"))
            let jobs = try await driver.jobs(in: .pending, queue: "cron", before: nil, limit: 100)
            #expect(jobs.count == 2 && jobs.allSatisfy { $0.kind == Probe.name && $0.payload == #"{"failTimes":0,"label":"digest"}"# })
            #expect(jobs.map(\.runAt).sorted() == [at("2026-11-21T10:35:00Z"), at("2026-11-21T11:00:00Z")])
        }
    }
}
