import ArgumentParser
import Foundation
import Histogram
import Logging
import Queue
import ServiceLifecycle
import Storage
import Synchronization

/// `agora bench queue`: the embedded queue's enqueue rate, drain rate and pickup latency.
struct QueueBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "queue",
        abstract: "Measure the embedded queue: batched enqueue, drain of no-op jobs, enqueue-to-start latency.")

    @Option(help: "Jobs to enqueue and drain.")
    var jobs = 100_000

    @Option(help: "Jobs run at once by the worker.")
    var concurrency = 32

    @Option(help: "Jobs per enqueue batch (one transaction each).")
    var batch = 1_000

    @Option(help: "Single jobs enqueued one at a time into idle workers, for the pickup latency.")
    var pickupSamples = 1_000

    @Option(help: "Directory for the benchmark's database (default: a fresh temporary one, deleted afterwards).")
    var dataDir: String?

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    @Option(help: "Concurrent app-like writers (one-row transactions) running during the drain, to measure the shared writer.")
    var appWriters = 0

    @Flag(help: "Keep the queue in a file of its own, apart from the app-like writes (default: the same file, as Agora does).")
    var separateFile = false

    func validate() throws {
        guard jobs > 0, concurrency > 0, batch > 0, pickupSamples > 0 else {
            throw ValidationError("--jobs, --concurrency, --batch and --pickup-samples must be positive")
        }
    }

    func run() async throws {
        let directory = dataDir.map { URL(fileURLWithPath: $0) }
            ?? FileManager.default.temporaryDirectory.appendingPathComponent("agora-bench-queue-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { if dataDir == nil { try? FileManager.default.removeItem(at: directory) } }
        var logger = Logger(label: "agora-bench")
        logger.logLevel = .warning
        let store = try await SQLiteStore.open(path: directory.appendingPathComponent("bench.sqlite").path, readers: 2, logger: logger)
        let queueStore = separateFile
            ? try await SQLiteStore.open(path: directory.appendingPathComponent("queue.sqlite").path, readers: 2, logger: logger)
            : store
        let driver = SQLiteQueueDriver(store: queueStore)
        try await driver.migrate()
        try await store.transaction { db in
            try await db.raw("CREATE TABLE IF NOT EXISTS bench_app_writes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)").run()
        }
        let result = try await QueueBenchmark(driver: driver, jobs: jobs, concurrency: concurrency, batch: batch,
                                              pickupSamples: pickupSamples, appWriters: appWriters, appStore: store,
                                              logger: logger).run()
        try await store.close()
        if separateFile { try await queueStore.close() }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            print(String(decoding: try encoder.encode(result), as: UTF8.self))
        } else {
            print("""
                jobs \(jobs), worker concurrency \(concurrency), enqueue batches of \(batch), embedded SQLite
                enqueue  : \(Int(result.enqueuePerSecond)) jobs/s (batched)
                drain    : \(Int(result.drainPerSecond)) jobs/s (no-op handlers, claim + run + acknowledge)
                pickup   : p50 \(String(format: "%.3f", result.pickupP50Ms)) ms, p99 \(String(format: "%.3f", result.pickupP99Ms)) ms, \
                max \(String(format: "%.3f", result.pickupMaxMs)) ms (\(pickupSamples) single jobs into idle workers)
                lost \(result.lost), duplicates \(result.duplicates)
                """)
            if appWriters > 0 {
                print("app      : \(Int(result.appWritesPerSecond ?? 0)) one-row transactions/s during the drain from \(appWriters) writers, "
                      + (separateFile ? "queue in its own file" : "queue in the same file"))
            }
        }
    }
}

/// What `agora bench queue --json` prints.
struct QueueBenchResult: Encodable {
    var enqueuePerSecond: Double
    var drainPerSecond: Double
    var pickupP50Ms: Double
    var pickupP99Ms: Double
    var pickupMaxMs: Double
    var lost: Int
    var duplicates: Int
    /// With `--app-writers`: the app-like writes committed per second during the drain.
    var appWritesPerSecond: Double?
}

/// A no-op job numbered for the lost/duplicate count.
struct BenchJob: Job {
    static let name = "bench.noop"
    var n: Int
}

/// A job carrying the monotonic time it was enqueued at, for the pickup latency.
struct PickupProbeJob: Job {
    static let name = "bench.pickup"
    var enqueuedAtNanos: UInt64
}

/// The three measurements, one after the other, on one driver.
struct QueueBenchmark {
    let driver: any QueueDriver
    let jobs: Int
    let concurrency: Int
    let batch: Int
    let pickupSamples: Int
    let appWriters: Int
    let appStore: any Database
    let logger: Logger

    private final class Observations: Sendable {
        let executions: Mutex<[UInt8]>
        let executed = Atomic<Int>(0)
        let appWrites = Atomic<Int>(0)
        let draining = Atomic<Bool>(true)
        let pickups = Mutex(Histogram<UInt64>(highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three))
        let pickupDone = AsyncStream<Void>.makeStream()

        init(jobs: Int) { executions = Mutex([UInt8](repeating: 0, count: jobs)) }
    }

    func run() async throws -> QueueBenchResult {
        let observations = Observations(jobs: jobs)
        let registry = JobRegistry()
        registry.register(BenchJob.self, queue: "bench") { job, _ in
            observations.executions.withLock { $0[job.n] &+= 1 }
            observations.executed.add(1, ordering: .relaxed)
        }
        registry.register(PickupProbeJob.self, queue: "bench") { job, _ in
            let now = DispatchTime.now().uptimeNanoseconds
            _ = observations.pickups.withLock { $0.record(now - job.enqueuedAtNanos) }
            observations.pickupDone.continuation.yield()
        }
        let queue = JobQueue(driver: driver, registry: registry)

        // 1. Batched enqueue, workers off.
        let enqueueStart = ContinuousClock.now
        for start in stride(from: 0, to: jobs, by: batch) {
            try await queue.enqueue(batch: (start..<min(start + batch, jobs)).map { BenchJob(n: $0) })
        }
        let enqueueSeconds = seconds(since: enqueueStart)

        // 2. Drain: one worker process's queue at the given concurrency.
        let worker = QueueWorker(driver: driver, registry: registry, configuration: WorkerConfiguration(
            queues: ["bench": concurrency], pollInterval: .seconds(1)), logger: logger)
        let services = ServiceGroup(configuration: .init(services: [worker], logger: logger))
        let drainStart = ContinuousClock.now
        let running = Task { try await services.run() }
        // App-like writers on the app's store while the queue drains.
        let writers = (0..<appWriters).map { writer in
            Task { [appStore] in
                while observations.draining.load(ordering: .relaxed) {
                    try await appStore.transaction { db in
                        try await db.raw("INSERT INTO bench_app_writes (body) VALUES (\(bind: "writer \(writer)"))").run()
                    }
                    observations.appWrites.add(1, ordering: .relaxed)
                }
            }
        }
        // Handlers count their runs in memory; the store is asked only for the last acknowledgements,
        // so that counting does not load the writer being measured.
        while observations.executed.load(ordering: .relaxed) < jobs { try await Task.sleep(for: .milliseconds(2)) }
        while try await completed() < jobs { try await Task.sleep(for: .milliseconds(2)) }
        let drainSeconds = seconds(since: drainStart)
        observations.draining.store(false, ordering: .relaxed)
        for writer in writers { try await writer.value }
        let appWritesPerSecond = appWriters > 0 ? Double(observations.appWrites.load(ordering: .relaxed)) / drainSeconds : nil

        // 3. Pickup: single jobs into idle workers, one at a time.
        var pickedUp = observations.pickupDone.stream.makeAsyncIterator()
        for _ in 0..<pickupSamples {
            try await Task.sleep(for: .milliseconds(2))
            try await queue.enqueue(PickupProbeJob(enqueuedAtNanos: DispatchTime.now().uptimeNanoseconds))
            await pickedUp.next()
        }
        await services.triggerGracefulShutdown()
        try await running.value

        let counts = observations.executions.withLock { $0 }
        let histogram = observations.pickups.withLock { $0 }
        func ms(_ nanos: UInt64) -> Double { Double(nanos) / 1_000_000 }
        return QueueBenchResult(
            enqueuePerSecond: Double(jobs) / enqueueSeconds,
            drainPerSecond: Double(jobs) / drainSeconds,
            pickupP50Ms: ms(histogram.valueAtPercentile(50)),
            pickupP99Ms: ms(histogram.valueAtPercentile(99)),
            pickupMaxMs: ms(histogram.max),
            lost: counts.count { $0 == 0 },
            duplicates: counts.reduce(0) { $0 + max(0, Int($1) - 1) },
            appWritesPerSecond: appWritesPerSecond)
    }

    private func completed() async throws -> Int {
        try await driver.counts().filter { $0.queue == "bench" && $0.state == .completed }.reduce(0) { $0 + $1.count }
    }

    private func seconds(since start: ContinuousClock.Instant) -> Double {
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }
}
