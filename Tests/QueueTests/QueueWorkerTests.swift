import Foundation
import Logging
import MetricsTestKit
import Queue
import ServiceLifecycle
import ServiceLifecycleTestKit
import Storage
import Synchronization
import Testing

/// What handlers saw, for assertions.
final class Recorder: Sendable {
    struct Execution: Hashable {
        let label: String
        let attempt: Int
        let idempotencyKey: String
    }
    private let executions = Mutex<[Execution]>([])

    func record(_ job: Probe, _ context: JobContext) {
        executions.withLock { $0.append(Execution(label: job.label, attempt: context.attempt, idempotencyKey: context.idempotencyKey)) }
    }

    var all: [Execution] { executions.withLock { $0 } }
}

@Suite("Queue workers")
struct QueueWorkerTests {
    let fastRetry = RetryPolicy(base: .milliseconds(20), maximum: .milliseconds(100), jitter: 0.2)

    @Test("jobs run with their attempt and idempotency key; a failing job is retried with backoff until it succeeds",
          arguments: DriverKind.allCases)
    func runsAndRetries(kind: DriverKind) async throws {
        try await withDriver(kind) { driver, _ in
            let recorder = Recorder()
            let registry = JobRegistry()
            registry.register(Probe.self, retry: fastRetry) { job, context in
                recorder.record(job, context)
                if context.attempt <= job.failTimes { throw ProbeFailure(attempt: context.attempt) }
            }
            let queue = JobQueue(driver: driver, registry: registry)
            try await withWorker(driver, registry) {
                let steady = try await queue.enqueue(Probe(label: "steady"))
                let flaky = try await queue.enqueue(Probe(label: "flaky", failTimes: 2))
                #expect(try await eventually { try await driver.job(flaky.id)?.state == .completed })
                #expect(try await driver.job(steady.id)?.state == .completed)
                let record = try #require(try await driver.job(flaky.id))
                #expect(record.attempt == 3 && record.errors.map(\.error) == ["probe failed on attempt 1", "probe failed on attempt 2"])
                #expect(recorder.all.filter { $0.label == "flaky" }.map(\.attempt) == [1, 2, 3])
                #expect(Set(recorder.all.filter { $0.label == "flaky" }.map(\.idempotencyKey)) == ["job-\(flaky.id)"])
            }
        }
    }

    @Test("after maxAttempts the job is dead; an unreadable payload or an unretryable error is dead at once",
          arguments: DriverKind.allCases)
    func deadJobs(kind: DriverKind) async throws {
        try await withDriver(kind) { driver, _ in
            let registry = JobRegistry()
            registry.register(Probe.self, retry: fastRetry) { job, context in
                if job.label == "hopeless" { throw JobCannotSucceed(ProbeFailure(attempt: context.attempt)) }
                throw ProbeFailure(attempt: context.attempt)
            }
            let queue = JobQueue(driver: driver, registry: registry)
            try await withWorker(driver, registry) {
                let doomed = try await queue.enqueue(Probe(label: "doomed"), options: EnqueueOptions(maxAttempts: 3))
                let garbled = try await driver.insert([NewJob(kind: Probe.name, queue: "default", payload: #"{"nope":1}"#)])[0]
                #expect(try await eventually { try await driver.job(doomed.id)?.state == .dead })
                #expect(try await eventually { try await driver.job(garbled.id)?.state == .dead })
                #expect(try await driver.job(doomed.id)?.errors.count == 3)
                let undecodable = try #require(try await driver.job(garbled.id))
                #expect(undecodable.attempt == 1 && undecodable.lastError?.contains("does not decode as test.probe") == true)
                let hopeless = try await queue.enqueue(Probe(label: "hopeless"), options: EnqueueOptions(maxAttempts: 5))
                #expect(try await eventually { try await driver.job(hopeless.id)?.state == .dead })
                #expect(try await driver.job(hopeless.id)?.errors.map(\.error) == ["probe failed on attempt 1"])
                // A kind no handler is registered for is retried like a failure (another worker may
                // know it), here until its single attempt is used up.
                let unknown = try await driver.insert([NewJob(kind: "test.unknown", queue: "default", payload: "{}", maxAttempts: 1)])[0]
                #expect(try await eventually { try await driver.job(unknown.id)?.state == .dead })
                #expect(try await driver.job(unknown.id)?.lastError == "no handler is registered for job kind test.unknown")
            }
        }
    }

    @Test("an enqueue wakes an idle worker at once, long before its next poll", arguments: DriverKind.allCases)
    func wakeUp(kind: DriverKind) async throws {
        try await withDriver(kind) { driver, database in
            let registry = JobRegistry()
            registry.register(Probe.self) { _, _ in }
            let queue = JobQueue(driver: driver, registry: registry)
            // The poll interval is a minute: only a wake-up can run these within the test.
            try await withWorker(driver, registry) {
                try await Task.sleep(for: .milliseconds(100))
                let direct = try await queue.enqueue(Probe(label: "direct"))
                let inTransaction = try await database.transaction { db in try await queue.enqueue(Probe(label: "outbox"), in: db) }
                #expect(try await eventually(within: 20) {
                    let first = try await driver.job(direct.id)?.state
                    let second = try await driver.job(inTransaction.id)?.state
                    return first == .completed && second == .completed
                })
            }
        }
    }

    @Test("at shutdown, running jobs finish within the grace period; the rest are cancelled and released to pending",
          arguments: DriverKind.allCases)
    func shutdownReleases(kind: DriverKind) async throws {
        try await withDriver(kind) { driver, _ in
            let registry = JobRegistry()
            let started = Mutex<Set<String>>([])
            registry.register(Probe.self) { job, _ in
                started.withLock { _ = $0.insert(job.label) }
                if job.label == "slow" { try await Task.sleep(for: .seconds(600)) }
                if job.label == "quick-at-shutdown" { try? await Task.sleep(for: .milliseconds(100)) }
            }
            let queue = JobQueue(driver: driver, registry: registry)
            var slow = EnqueuedJob(id: 0, isExisting: false)
            var quick = slow
            let configuration = WorkerConfiguration(queues: ["default": 4], leaseDuration: .seconds(30), pollInterval: .seconds(60),
                                                    shutdownGrace: .milliseconds(2000))
            try await withWorker(driver, registry, configuration: configuration) {
                slow = try await queue.enqueue(Probe(label: "slow"))
                quick = try await queue.enqueue(Probe(label: "quick-at-shutdown"))
                #expect(await eventually { started.withLock { $0.count == 2 } })
            }
            #expect(try await driver.job(quick.id)?.state == .completed)
            let released = try #require(try await driver.job(slow.id))
            #expect(released.state == .pending && released.attempt == 0 && released.errors.isEmpty)
        }
    }

    @Test("cancelling a running job cancels its execution at the next heartbeat", arguments: DriverKind.allCases)
    func cooperativeCancel(kind: DriverKind) async throws {
        try await withDriver(kind) { driver, _ in
            let registry = JobRegistry()
            let outcome = Mutex<String?>(nil)
            registry.register(Probe.self) { _, _ in
                do {
                    try await Task.sleep(for: .seconds(600))
                    outcome.withLock { $0 = "finished" }
                } catch {
                    outcome.withLock { $0 = "cancelled" }
                    throw error
                }
            }
            let queue = JobQueue(driver: driver, registry: registry)
            let configuration = WorkerConfiguration(queues: ["default": 2], leaseDuration: .milliseconds(300), pollInterval: .seconds(60))
            try await withWorker(driver, registry, configuration: configuration) {
                let job = try await queue.enqueue(Probe(label: "long"))
                #expect(try await eventually { try await driver.job(job.id)?.state == .running })
                #expect(try await driver.cancel(job.id))
                #expect(await eventually { outcome.withLock { $0 } == "cancelled" })
                #expect(try await driver.job(job.id)?.state == .cancelled)
            }
        }
    }

    @Test("a long job keeps its lease by heartbeat and is never rescued", arguments: DriverKind.allCases)
    func heartbeat(kind: DriverKind) async throws {
        try await withDriver(kind) { driver, _ in
            let registry = JobRegistry()
            let runs = Mutex(0)
            registry.register(Probe.self) { _, _ in
                runs.withLock { $0 += 1 }
                try await Task.sleep(for: .milliseconds(4500))
            }
            let queue = JobQueue(driver: driver, registry: registry)
            // A lease of 3 s renewed every second outlives a 4.5 s job; rescue looks every 50 ms.
            // The lease leaves 2 s for a renewal delayed by a loaded test machine.
            let configuration = WorkerConfiguration(queues: ["default": 2], leaseDuration: .seconds(3), pollInterval: .seconds(60),
                                                    maintenanceInterval: .milliseconds(50))
            try await withWorker(driver, registry, configuration: configuration) {
                let job = try await queue.enqueue(Probe(label: "long"))
                #expect(try await eventually(within: 20) { try await driver.job(job.id)?.state == .completed })
                #expect(runs.withLock { $0 } == 1)
                #expect(try await driver.job(job.id)?.attempt == 1)
            }
        }
    }

    struct PostCreated: TopicEvent, Hashable {
        static let topic = "post.created"
        var postID: Int
    }

    @Test("each subscriber group receives each event once and retries on its own", arguments: DriverKind.allCases)
    func topicGroupsRetryIndependently(kind: DriverKind) async throws {
        try await withDriver(kind) { driver, database in
            let registry = JobRegistry()
            let deliveries = Mutex<[String: [Int]]>([:])
            registry.subscribe(PostCreated.self, group: "steady", retry: fastRetry) { event, _ in
                deliveries.withLock { $0["steady", default: []].append(event.postID) }
            }
            registry.subscribe(PostCreated.self, group: "flaky", retry: fastRetry) { event, context in
                if context.attempt < 3 { throw ProbeFailure(attempt: context.attempt) }
                deliveries.withLock { $0["flaky", default: []].append(event.postID) }
            }
            let queue = JobQueue(driver: driver, registry: registry)
            try await queue.saveSubscriptions()
            try await withWorker(driver, registry) {
                try await queue.publish(PostCreated(postID: 1))
                try await database.transaction { db in try await queue.publish(PostCreated(postID: 2), in: db) }
                #expect(await eventually { deliveries.withLock { $0["flaky"]?.count == 2 && $0["steady"]?.count == 2 } })
                try await Task.sleep(for: .milliseconds(100))
                #expect(deliveries.withLock { $0.mapValues { $0.sorted() } } == ["steady": [1, 2], "flaky": [1, 2]])
            }
        }
    }

    @Test("metrics count enqueued, started, succeeded, failed, retried and dead jobs, and time them", arguments: DriverKind.allCases)
    func metrics(kind: DriverKind) async throws {
        try await withDriver(kind) { driver, _ in
            let testMetrics = TestMetrics()
            let metrics = QueueMetrics(factory: testMetrics)
            let registry = JobRegistry()
            registry.register(Probe.self, retry: fastRetry) { job, context in
                if context.attempt <= job.failTimes { throw ProbeFailure(attempt: context.attempt) }
            }
            let queue = JobQueue(driver: driver, registry: registry, metrics: metrics)
            let worker = QueueWorker(driver: driver, registry: registry, configuration: WorkerConfiguration(
                queues: ["default": 4], pollInterval: .seconds(60), maintenanceInterval: .milliseconds(50)),
                logger: Logger(label: "worker-test"), metrics: metrics)
            try await testGracefulShutdown { trigger in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { await worker.run() }
                    let ok = try await queue.enqueue(Probe(label: "ok"))
                    let flaky = try await queue.enqueue(Probe(label: "flaky", failTimes: 1))
                    let doomed = try await queue.enqueue(Probe(label: "doomed", failTimes: 9), options: EnqueueOptions(maxAttempts: 2))
                    #expect(try await eventually {
                        let states = try await [ok, flaky, doomed].asyncMap { try await driver.job($0.id)?.state }
                        return states == [.completed, .completed, .dead]
                    })
                    // The depth gauges are set by the maintenance loop, every 50 ms here, from a count
                    // that may have been read before the last job died: wait for one that has all three.
                    #expect(await eventually {
                        let depth = { state in try? testMetrics.expectGauge("agora_queue_jobs", [("queue", "default"), ("state", state)]).lastValue }
                        return depth("completed") == 2 && depth("dead") == 1
                    })
                    trigger.triggerGracefulShutdown()
                    try await group.waitForAll()
                }
            }
            let queueLabel = [("queue", "default")]
            #expect(try testMetrics.expectCounter("agora_queue_jobs_enqueued_total", queueLabel).totalValue == 3)
            #expect(try testMetrics.expectCounter("agora_queue_jobs_started_total", queueLabel).totalValue == 5)
            #expect(try testMetrics.expectCounter("agora_queue_jobs_succeeded_total", queueLabel).totalValue == 2)
            #expect(try testMetrics.expectCounter("agora_queue_jobs_failed_total", queueLabel).totalValue == 3)
            #expect(try testMetrics.expectCounter("agora_queue_jobs_retried_total", queueLabel).totalValue == 2)
            #expect(try testMetrics.expectCounter("agora_queue_jobs_dead_total", queueLabel).totalValue == 1)
            #expect(try testMetrics.expectTimer("agora_queue_pickup_latency_seconds", queueLabel).values.count == 5)
            #expect(try testMetrics.expectTimer("agora_queue_job_duration_seconds", queueLabel).values.count == 5)
        }
    }
}

extension Array {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var results: [T] = []
        for element in self { results.append(try await transform(element)) }
        return results
    }
}
