import Foundation
import Queue
import SQLKit
import Storage
import Testing

/// The queue's semantics, which every driver must pass (as River's riverdrivertest).
@Suite("Queue driver conformance")
struct QueueDriverConformanceTests {
    @Test("due jobs are claimed by priority, then run time, then age; delayed jobs wait", arguments: DriverKind.allCases)
    func ordering(kind: DriverKind) async throws {
        try await withDriver(kind) { driver, _ in
            let now = Timestamp.now
            let low = try await driver.insertProbe("low", priority: 0, runAt: now.adding(.seconds(-2)))
            let high = try await driver.insertProbe("high", priority: 5, runAt: now)
            let older = try await driver.insertProbe("older", priority: 0, runAt: now.adding(.seconds(-5)))
            // Far enough ahead that a loaded machine cannot reach it before the first two claims.
            let later = try await driver.insertProbe("later", priority: 9, runAt: now.adding(.seconds(6)))
            _ = try await driver.insertProbe("other queue", queue: "other")
            #expect(try await driver.nextRunAt(queue: "default") == now.adding(.seconds(-5)))
            #expect(try await driver.nextRunAt(queue: "empty") == nil)
            let first = try await driver.claimNextJobs(queue: "default", limit: 2, leaseFor: .seconds(30))
            #expect(first.map(\.id) == [high, older])
            let second = try await driver.claimNextJobs(queue: "default", limit: 10, leaseFor: .seconds(30))
            #expect(second.map(\.id) == [low])
            #expect(try await eventually(within: 15) {
                try await driver.claimNextJobs(queue: "default", limit: 10, leaseFor: .seconds(30)).map(\.id) == [later]
            })
            #expect(try await driver.claimNextJobs(queue: "other", limit: 10, leaseFor: .seconds(30)).count == 1)
        }
    }

    @Test("jobs are listed newest first, by state and queue, a page at a time", arguments: DriverKind.allCases)
    func listing(kind: DriverKind) async throws {
        try await withDriver(kind) { driver, _ in
            var ids: [JobID] = []
            for n in 0..<5 { ids.append(try await driver.insertProbe("p\(n)", queue: n % 2 == 0 ? "even" : "odd")) }
            _ = try #require(try await driver.claimNextJobs(queue: "even", limit: 1, leaseFor: .seconds(30)).first)
            #expect(try await driver.jobs(in: nil, queue: nil, before: nil, limit: 10).map(\.id) == ids.reversed())
            #expect(try await driver.jobs(in: nil, queue: nil, before: ids[3], limit: 2).map(\.id) == [ids[2], ids[1]])
            #expect(try await driver.jobs(in: .pending, queue: "even", before: nil, limit: 10).map(\.id) == [ids[4], ids[2]])
            #expect(try await driver.jobs(in: .running, queue: nil, before: nil, limit: 10).map(\.id) == [ids[0]])
            #expect(try await driver.jobs(in: nil, queue: "odd", before: nil, limit: 10).map(\.id) == [ids[3], ids[1]])
        }
    }

    @Test("a live unique key returns the existing job; a finished job frees its key", arguments: DriverKind.allCases)
    func uniqueness(kind: DriverKind) async throws {
        try await withDriver(kind) { driver, _ in
            let job = NewJob(kind: Probe.name, queue: "default", payload: #"{"label":"u"}"#, uniqueKey: "digest:7")
            let first = try await driver.insert([job])[0]
            let plain = NewJob(kind: Probe.name, queue: "default", payload: #"{"label":"plain"}"#)
            let again = try await driver.insert([job, plain, job])
            #expect(!first.isExisting)
            #expect(again[0] == EnqueuedJob(id: first.id, isExisting: true) && again[2] == again[0])
            #expect(!again[1].isExisting && again[1].id != first.id)
            #expect(try await driver.job(again[1].id)?.payload == plain.payload)
            let claimed = try await driver.claimNextJobs(queue: "default", limit: 1, leaseFor: .seconds(30))
            #expect(try await driver.insert([job])[0] == EnqueuedJob(id: first.id, isExisting: true))
            try await driver.complete(claimed.map(\.lease))
            let fresh = try await driver.insert([job])[0]
            #expect(!fresh.isExisting && fresh.id != first.id)
        }
    }

    @Test("a batch is stored in one transaction, and enqueue inside the caller's transaction commits or rolls back with it",
          arguments: DriverKind.allCases)
    func transactionalEnqueue(kind: DriverKind) async throws {
        try await withDriver(kind) { driver, database in
            let batch = (1...100).map { NewJob(kind: Probe.name, queue: "batch", payload: #"{"label":"b\#($0)"}"#) }
            let ids = try await driver.insert(batch).map(\.id)
            #expect(Set(ids).count == 100)
            let stored = try await driver.claimNextJobs(queue: "batch", limit: 100, leaseFor: .seconds(30))
            #expect(Dictionary(uniqueKeysWithValues: stored.map { ($0.id, $0.payload) }) ==
                    Dictionary(uniqueKeysWithValues: zip(ids, batch.map(\.payload))))
            struct Rollback: Error {}
            await #expect(throws: Rollback.self) {
                try await database.transaction { db in
                    _ = try await driver.insert([NewJob(kind: Probe.name, queue: "outbox", payload: #"{"label":"gone"}"#)], on: db)
                    throw Rollback()
                }
            }
            let kept = try await database.transaction { db in
                try await driver.insert([NewJob(kind: Probe.name, queue: "outbox", payload: #"{"label":"kept"}"#)], on: db)[0].id
            }
            let claimed = try await driver.claimNextJobs(queue: "outbox", limit: 10, leaseFor: .seconds(30))
            #expect(claimed.map(\.id) == [kept])
            #expect(claimed.first?.payload == #"{"label":"kept"}"#)
        }
    }

    @Test("an expired lease is rescued as an attempt, and the old holder's token is refused", arguments: DriverKind.allCases)
    func leasesAndFencing(kind: DriverKind) async throws {
        try await withDriver(kind) { driver, _ in
            let id = try await driver.insertProbe("lease")
            let stale = try #require(try await driver.claimNextJobs(queue: "default", limit: 1, leaseFor: .seconds(1)).first)
            #expect(stale.attempt == 1)
            #expect(try await driver.rescueExpiredLeases() == 0)
            try await Task.sleep(for: .milliseconds(1100))
            #expect(try await driver.rescueExpiredLeases() == 1)
            let fresh = try #require(try await driver.claimNextJobs(queue: "default", limit: 1, leaseFor: .seconds(30)).first)
            #expect(fresh.id == id && fresh.attempt == 2 && fresh.lease.token != stale.lease.token)
            #expect(try await driver.complete([stale.lease]).isEmpty)
            #expect(try await driver.fail(stale.lease, error: "late", retryAt: nil) == false)
            #expect(try await driver.renewLeases([stale.lease, fresh.lease], leaseFor: .seconds(30)) == [id])
            #expect(try await driver.complete([fresh.lease]) == [id])
            let record = try #require(try await driver.job(id))
            #expect(record.state == .completed && record.attempt == 2)
            #expect(record.errors.map(\.attempt) == [1] && record.errors.first?.error.contains("lease expired") == true)
        }
    }

    @Test("a rescued job whose attempts are used up is dead", arguments: DriverKind.allCases)
    func rescueToDead(kind: DriverKind) async throws {
        try await withDriver(kind) { driver, _ in
            let id = try await driver.insertProbe("once", maxAttempts: 1)
            _ = try await driver.claimNextJobs(queue: "default", limit: 1, leaseFor: .milliseconds(10))
            try await Task.sleep(for: .milliseconds(30))
            #expect(try await driver.rescueExpiredLeases() == 1)
            #expect(try await driver.job(id)?.state == .dead)
        }
    }

    @Test("failures retry at the given time, then the job is dead with its history; dead jobs can be retried or discarded",
          arguments: DriverKind.allCases)
    func retriesAndDeadJobs(kind: DriverKind) async throws {
        try await withDriver(kind) { driver, _ in
            let id = try await driver.insertProbe("flaky", maxAttempts: 2)
            let first = try #require(try await driver.claimNextJobs(queue: "default", limit: 1, leaseFor: .seconds(30)).first)
            #expect(try await driver.fail(first.lease, error: "boom 1", retryAt: Timestamp.now.adding(.milliseconds(1500))))
            #expect(try await driver.claimNextJobs(queue: "default", limit: 1, leaseFor: .seconds(30)).isEmpty)
            var second: ClaimedJob?
            #expect(try await eventually {
                second = try await driver.claimNextJobs(queue: "default", limit: 1, leaseFor: .seconds(30)).first
                return second != nil
            })
            #expect(second?.attempt == 2)
            let secondLease = try #require(second).lease
            #expect(try await driver.fail(secondLease, error: "boom 2", retryAt: nil))
            let dead = try #require(try await driver.job(id))
            #expect(dead.state == .dead && dead.lastError == "boom 2" && dead.errors.map(\.error) == ["boom 1", "boom 2"])
            #expect(try await driver.jobs(in: .dead, queue: "default", before: nil, limit: 10).map(\.id) == [id])
            #expect(try await driver.jobs(in: .dead, queue: "elsewhere", before: nil, limit: 10).isEmpty)
            #expect(try await driver.retry(id))
            let retried = try #require(try await driver.claimNextJobs(queue: "default", limit: 1, leaseFor: .seconds(30)).first)
            #expect(retried.id == id && retried.attempt == 1)
            #expect(try await driver.retry(id) == false)
            #expect(try await driver.fail(retried.lease, error: "boom 3", retryAt: nil))
            #expect(try await driver.job(id)?.errors.count == 3)
            #expect(try await driver.discard(id))
            #expect(try await driver.job(id) == nil)
        }
    }

    @Test("a paused queue hands out nothing until resumed; other queues go on", arguments: DriverKind.allCases)
    func pauseAndResume(kind: DriverKind) async throws {
        try await withDriver(kind) { driver, _ in
            _ = try await driver.insertProbe("p", queue: "mail")
            _ = try await driver.insertProbe("q", queue: "other")
            try await driver.pause(queue: "mail")
            #expect(try await driver.pausedQueues() == ["mail"])
            #expect(try await driver.nextRunAt(queue: "mail") == nil)
            #expect(try await driver.claimNextJobs(queue: "mail", limit: 5, leaseFor: .seconds(30)).isEmpty)
            #expect(try await driver.claimNextJobs(queue: "other", limit: 5, leaseFor: .seconds(30)).count == 1)
            try await driver.resume(queue: "mail")
            #expect(try await driver.pausedQueues().isEmpty)
            #expect(try await driver.claimNextJobs(queue: "mail", limit: 5, leaseFor: .seconds(30)).count == 1)
        }
    }

    @Test("cancel stops a pending job, and makes a running job's lease unrenewable", arguments: DriverKind.allCases)
    func cancel(kind: DriverKind) async throws {
        try await withDriver(kind) { driver, _ in
            let pending = try await driver.insertProbe("pending", priority: 0)
            let running = try await driver.insertProbe("running", priority: 1)
            let claimed = try await driver.claimNextJobs(queue: "default", limit: 1, leaseFor: .seconds(30))
            #expect(claimed.map(\.id) == [running])
            #expect(try await driver.cancel(pending))
            #expect(try await driver.cancel(running))
            #expect(try await driver.cancel(running) == false)
            #expect(try await driver.renewLeases(claimed.map(\.lease), leaseFor: .seconds(30)).isEmpty)
            #expect(try await driver.complete(claimed.map(\.lease)).isEmpty)
            #expect(try await driver.claimNextJobs(queue: "default", limit: 5, leaseFor: .seconds(30)).isEmpty)
            #expect(try await driver.job(pending)?.state == .cancelled)
        }
    }

    @Test("released jobs go back to pending without using an attempt", arguments: DriverKind.allCases)
    func release(kind: DriverKind) async throws {
        try await withDriver(kind) { driver, _ in
            let id = try await driver.insertProbe("r")
            let claimed = try await driver.claimNextJobs(queue: "default", limit: 1, leaseFor: .seconds(30))
            try await driver.release(claimed.map(\.lease))
            let again = try #require(try await driver.claimNextJobs(queue: "default", limit: 1, leaseFor: .seconds(30)).first)
            #expect(again.id == id && again.attempt == 1)
        }
    }

    @Test("every change that makes a job claimable wakes the idle workers of its queue",
          arguments: DriverKind.allCases)
    func wakeUps(kind: DriverKind) async throws {
        try await withDriver(kind) { driver, database in
            /// Whether a wait on `queue` begun now ends (or was already signalled) long before its timeout.
            func wakes(_ queue: String) async -> Bool {
                let clock = ContinuousClock()
                let start = clock.now
                await driver.arrivals.wait(for: queue, timeout: .seconds(10))
                return clock.now - start < .seconds(5)
            }
            /// A job claimed from a queue of its own, the wake-up of its insert consumed.
            func claimed(_ queue: String, leaseFor: Duration = .seconds(30)) async throws -> ClaimedJob {
                _ = try await driver.insertProbe(queue, queue: queue)
                #expect(await wakes(queue))
                return try #require(try await driver.claimNextJobs(queue: queue, limit: 1, leaseFor: leaseFor).first)
            }
            _ = try await driver.insertProbe("inserted", queue: "inserted")
            #expect(await wakes("inserted"))
            _ = try await database.transaction { db in
                try await driver.insert([NewJob(kind: Probe.name, queue: "outbox", payload: Probe.payload("outbox"))], on: db)
            }
            #expect(await wakes("outbox"))
            try await driver.saveSubscriptions([TopicSubscription(topic: "post.created", group: "g", queue: "published", maxAttempts: 3)])
            _ = try await driver.publish(topic: "post.created", payload: "{}")
            #expect(await wakes("published"))

            let failed = try await claimed("failed")
            try await driver.fail(failed.lease, error: "boom", retryAt: .now)
            #expect(await wakes("failed"))
            let released = try await claimed("released")
            try await driver.release([released.lease])
            #expect(await wakes("released"))
            let dead = try await claimed("retried")
            try await driver.fail(dead.lease, error: "boom", retryAt: nil)
            try await driver.retry(dead.id)
            #expect(await wakes("retried"))
            _ = try await claimed("rescued", leaseFor: .milliseconds(10))
            try await Task.sleep(for: .milliseconds(30))
            #expect(try await driver.rescueExpiredLeases() == 1)
            #expect(await wakes("rescued"))
            try await driver.pause(queue: "paused")
            _ = try await driver.insertProbe("paused", queue: "paused")
            #expect(await wakes("paused"))
            try await driver.resume(queue: "paused")
            #expect(await wakes("paused"))
        }
    }

    @Test("counts per queue and state, and pruning of old finished jobs", arguments: DriverKind.allCases)
    func countsAndPruning(kind: DriverKind) async throws {
        try await withDriver(kind) { driver, _ in
            for n in 1...3 { _ = try await driver.insertProbe("a\(n)", queue: "a") }
            _ = try await driver.insertProbe("b", queue: "b")
            let claimed = try await driver.claimNextJobs(queue: "a", limit: 2, leaseFor: .seconds(30))
            try await driver.complete([claimed[0].lease])
            #expect(Set(try await driver.counts()) == [
                QueueCount(queue: "a", state: .completed, count: 1), QueueCount(queue: "a", state: .running, count: 1),
                QueueCount(queue: "a", state: .pending, count: 1), QueueCount(queue: "b", state: .pending, count: 1),
            ])
            #expect(try await driver.pruneFinished(before: Timestamp.now.adding(.seconds(-60))) == 0)
            #expect(try await driver.pruneFinished(before: Timestamp.now.adding(.seconds(1))) == 1)
            #expect(try await driver.job(claimed[0].id) == nil)
        }
    }

    @Test("a publish fans out one job per stored subscriber group, inside the caller's transaction or its own",
          arguments: DriverKind.allCases)
    func topics(kind: DriverKind) async throws {
        try await withDriver(kind) { driver, database in
            #expect(try await driver.publish(topic: "post.created", payload: "{}").isEmpty)
            try await driver.saveSubscriptions([
                TopicSubscription(topic: "post.created", group: "notify", queue: "notifications", maxAttempts: 5),
                TopicSubscription(topic: "post.created", group: "count", queue: "counters", maxAttempts: 3),
                TopicSubscription(topic: "user.deleted", group: "cleanup", queue: "default", maxAttempts: 5),
            ])
            try await driver.saveSubscriptions([TopicSubscription(topic: "post.created", group: "count", queue: "counters", maxAttempts: 7)])
            #expect(try await driver.publish(topic: "post.created", payload: #"{"postId":1}"#).count == 2)
            struct Rollback: Error {}
            await #expect(throws: Rollback.self) {
                try await database.transaction { db in
                    _ = try await driver.publish(topic: "post.created", payload: #"{"postId":2}"#, on: db)
                    throw Rollback()
                }
            }
            let notify = try await driver.claimNextJobs(queue: "notifications", limit: 10, leaseFor: .seconds(30))
            let count = try await driver.claimNextJobs(queue: "counters", limit: 10, leaseFor: .seconds(30))
            #expect(notify.map(\.kind) == [TopicSubscription.jobKind(topic: "post.created", group: "notify")])
            #expect(count.map(\.kind) == ["topic:post.created:count"] && count.first?.maxAttempts == 7)
            #expect(notify.first?.payload == #"{"postId":1}"#)
            #expect(try await driver.claimNextJobs(queue: "default", limit: 10, leaseFor: .seconds(30)).isEmpty)
        }
    }
}
