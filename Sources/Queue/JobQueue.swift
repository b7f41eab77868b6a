import SQLKit
import Storage

/// The queue as the app sees it: enqueue jobs (alone, in a batch, or inside the app's own
/// transaction) and control them.
public struct JobQueue: Sendable {
    public let driver: any QueueDriver
    public let registry: JobRegistry
    public let metrics: QueueMetrics

    public init(driver: any QueueDriver, registry: JobRegistry, metrics: QueueMetrics = QueueMetrics()) {
        self.driver = driver
        self.registry = registry
        self.metrics = metrics
    }

    /// Enqueues `job` in a transaction of its own.
    @discardableResult
    public func enqueue<J: Job>(_ job: J, options: EnqueueOptions = EnqueueOptions()) async throws -> EnqueuedJob {
        let new = try newJob(job, options: options)
        let enqueued = try await driver.insert([new])[0]
        metrics.enqueued(enqueued.isExisting ? 0 : 1, queue: new.queue)
        return enqueued
    }

    /// Enqueues `job` inside the caller's transaction `db`: the job exists if and only if that
    /// transaction commits (the outbox guarantee). Idle workers wake when it commits.
    @discardableResult
    public func enqueue<J: Job>(_ job: J, options: EnqueueOptions = EnqueueOptions(), in db: any SQLDatabase) async throws -> EnqueuedJob {
        try await enqueue(prepared: try newJob(job, options: options), in: db)
    }

    /// Enqueues a job prepared with `newJob(_:options:)` inside the caller's transaction `db`.
    /// Preparing before the transaction keeps the payload's encoding out of it: on SQLite every
    /// transaction body runs on the one writer thread, so work done there delays every write.
    @discardableResult
    public func enqueue(prepared new: NewJob, in db: any SQLDatabase) async throws -> EnqueuedJob {
        let enqueued = try await driver.insert([new], on: db)[0]
        // Counted when the caller's transaction may still roll back: "enqueued" means offered.
        metrics.enqueued(enqueued.isExisting ? 0 : 1, queue: new.queue)
        return enqueued
    }

    /// Enqueues every job of `jobs` in one transaction, all with `options`.
    @discardableResult
    public func enqueue<J: Job>(batch jobs: [J], options: EnqueueOptions = EnqueueOptions()) async throws -> [EnqueuedJob] {
        let new = try jobs.map { try newJob($0, options: options) }
        let enqueued = try await driver.insert(new)
        for (queue, count) in Dictionary(grouping: zip(new, enqueued).filter { !$0.1.isExisting }, by: \.0.queue).mapValues(\.count) {
            metrics.enqueued(count, queue: queue)
        }
        return enqueued
    }

    /// Publishes `event` to its topic in a transaction of its own: one job per subscriber group.
    @discardableResult
    public func publish<E: TopicEvent>(_ event: E) async throws -> [EnqueuedJob] {
        let deliveries = try await driver.publish(topic: E.topic, payload: try JobRegistry.payload(event))
        metrics.published(deliveries.count, topic: E.topic)
        return deliveries
    }

    /// Publishes `event` inside the caller's transaction `db`: the deliveries exist if and only if
    /// that transaction commits.
    @discardableResult
    public func publish<E: TopicEvent>(_ event: E, in db: any SQLDatabase) async throws -> [EnqueuedJob] {
        let deliveries = try await driver.publish(topic: E.topic, payload: try JobRegistry.payload(event), on: db)
        metrics.published(deliveries.count, topic: E.topic)
        return deliveries
    }

    /// Stores the registry's topic subscriptions, so that every process publishing fans out to
    /// them; call once at start-up, after `driver.migrate()`.
    public func saveSubscriptions() async throws {
        try await driver.saveSubscriptions(registry.subscriptions)
    }

    /// The stored form of `job`, with the registration's defaults where `options` are unset.
    public func newJob<J: Job>(_ job: J, options: EnqueueOptions) throws -> NewJob {
        try registry.newJob(job, options: options)
    }

}
