import Foundation
import SQLKit
import Storage

/// The queue as the app sees it: enqueue jobs (alone, in a batch, or inside the app's own
/// transaction) and control them.
public struct JobQueue: Sendable {
    public let driver: any QueueDriver
    public let registry: JobRegistry

    public init(driver: any QueueDriver, registry: JobRegistry) {
        self.driver = driver
        self.registry = registry
    }

    /// Enqueues `job` in a transaction of its own.
    @discardableResult
    public func enqueue<J: Job>(_ job: J, options: EnqueueOptions = EnqueueOptions()) async throws -> EnqueuedJob {
        try await driver.insert([newJob(job, options: options)])[0]
    }

    /// Enqueues `job` inside the caller's transaction `db`: the job exists if and only if that
    /// transaction commits (the outbox guarantee). Idle workers wake when it commits.
    @discardableResult
    public func enqueue<J: Job>(_ job: J, options: EnqueueOptions = EnqueueOptions(), in db: any SQLDatabase) async throws -> EnqueuedJob {
        try await driver.insert([newJob(job, options: options)], on: db)[0]
    }

    /// Enqueues every job of `jobs` in one transaction, all with `options`.
    @discardableResult
    public func enqueue<J: Job>(batch jobs: [J], options: EnqueueOptions = EnqueueOptions()) async throws -> [EnqueuedJob] {
        try await driver.insert(jobs.map { try newJob($0, options: options) })
    }

    /// The stored form of `job`, with the registration's defaults where `options` are unset.
    public func newJob<J: Job>(_ job: J, options: EnqueueOptions) throws -> NewJob {
        let registration = registry.registration(of: J.name)
        let payload = String(decoding: try Self.encoder.encode(job), as: UTF8.self)
        return NewJob(kind: J.name, queue: options.queue ?? registration?.queue ?? "default", payload: payload,
                      priority: options.priority, maxAttempts: options.maxAttempts ?? registration?.maxAttempts ?? 25,
                      runAt: options.runAt ?? .now, uniqueKey: options.uniqueKey)
    }

    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()
}
