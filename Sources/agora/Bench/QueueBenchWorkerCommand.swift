import ArgumentParser
import Foundation
import Logging
import Queue
import ServiceLifecycle
import Storage
import Synchronization

/// `agora bench queue-worker` (hidden): the worker side of `agora bench queue --database-url`, run
/// by the benchmark as a child process of the same executable, so that jobs cross a process
/// boundary and idle workers are woken by PostgreSQL's NOTIFY, as between two Agora instances.
///
/// It works the queue `bench` with the product's `QueueWorker` on the product's PostgreSQL driver
/// and speaks to its parent in lines on standard output (`QueueBenchWorkerLine`): `ready` once it
/// listens for wake-ups, `drained` once its handlers have run `--jobs` numbered jobs, a `pickup`
/// line per probe job (the probe's enqueue time and the handler's start, both on
/// `CLOCK_MONOTONIC`, which every process of one Linux machine shares), and on SIGTERM, after its
/// graceful stop, a `summary` of the numbered jobs it ran (lost, duplicates).
struct QueueBenchWorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "queue-worker",
        abstract: "The worker process of `agora bench queue --database-url` (started by it).",
        shouldDisplay: false)

    @Option(name: .customLong("database-url"), help: "The benchmark's PostgreSQL database.")
    var databaseURL: String

    @Option(help: "Numbered no-op jobs to expect.")
    var jobs: Int

    @Option(help: "Jobs run at once.")
    var concurrency: Int

    func run() async throws {
        var logger = Logger(label: "agora-bench-worker")
        logger.logLevel = .warning
        let store = try await PostgresStore.open(url: databaseURL, logger: logger)
        let driver = PostgresQueueDriver(store: store)
        // Subscribes to the wake-ups: a job committed after this wakes the worker.
        try await driver.migrate()

        let output = LineWriter()
        let runs = Runs(jobs: jobs)
        let registry = JobRegistry()
        registry.register(BenchJob.self, queue: "bench") { job, _ in
            if runs.record(job.n) { output.write(QueueBenchWorkerLine.drained(atNanos: monotonicNanos())) }
        }
        registry.register(PickupProbeJob.self, queue: "bench") { job, _ in
            let startedAt = monotonicNanos()
            output.write(QueueBenchWorkerLine.pickup(sample: job.sample, enqueuedAtNanos: job.enqueuedAtNanos, startedAtNanos: startedAt))
        }
        let worker = QueueWorker(driver: driver, registry: registry, configuration: WorkerConfiguration(
            queues: ["bench": concurrency], pollInterval: .seconds(1)), logger: logger)
        let group = ServiceGroup(configuration: .init(
            services: [.init(service: worker)], gracefulShutdownSignals: [.sigterm], logger: logger))
        output.write(QueueBenchWorkerLine.ready)
        try await group.run()
        try await store.close()
        let (executed, lost, duplicates) = runs.summary()
        output.write(QueueBenchWorkerLine.summary(executed: executed, lost: lost, duplicates: duplicates))
    }

    /// How often each numbered job ran, counted in memory (counting in the database would load
    /// the server being measured).
    private final class Runs: Sendable {
        private let counts: Mutex<[UInt8]>
        private let executed = Atomic<Int>(0)
        private let jobs: Int

        init(jobs: Int) {
            self.jobs = jobs
            counts = Mutex([UInt8](repeating: 0, count: jobs))
        }

        /// Counts a run of job `n`; true for the run that completes the set.
        func record(_ n: Int) -> Bool {
            guard n >= 0 && n < jobs else { return false }
            counts.withLock { $0[n] &+= 1 }
            return executed.add(1, ordering: .relaxed).newValue == jobs
        }

        func summary() -> (executed: Int, lost: Int, duplicates: Int) {
            let counts = counts.withLock { $0 }
            return (executed.load(ordering: .relaxed), counts.count { $0 == 0 }, counts.reduce(0) { $0 + max(0, Int($1) - 1) })
        }
    }
}
