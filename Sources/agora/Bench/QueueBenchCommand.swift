import ArgumentParser
import Foundation
import Histogram
import Logging
import Queue
import ServiceLifecycle
import Storage
import Synchronization

/// `agora bench queue`: the queue's enqueue rate, drain rate and pickup latency, on the embedded
/// SQLite in one process, or with `--database-url` on PostgreSQL with the worker in a process of
/// its own (`PostgresQueueBenchmark`), followed by the SQLite run as the same-run reference.
struct QueueBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "queue",
        abstract: "Measure the queue: batched enqueue, drain of no-op jobs, enqueue-to-start latency.",
        discussion: """
            Without --database-url: the embedded SQLite queue in this process, on a fresh temporary database \
            (or in --data-dir). With --database-url (or AGORA_DATABASE_URL): a fresh database on that PostgreSQL \
            server, created and dropped by the benchmark, drained by a worker in another process woken by NOTIFY; \
            then the SQLite run with the same parameters as the same-run reference (--no-reference skips it).
            """)

    @OptionGroup var common: CommonOptions

    @Option(help: "Jobs to enqueue and drain.")
    var jobs = 100_000

    @Option(help: "Jobs run at once by the worker.")
    var concurrency = 32

    @Option(help: "Jobs per enqueue batch (one transaction each).")
    var batch = 1_000

    @Option(help: "Single jobs enqueued one at a time into idle workers, for the pickup latency.")
    var pickupSamples = 1_000

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    @Option(help: "Concurrent app-like writers (one-row transactions) running during the drain, to measure the shared writer (SQLite only).")
    var appWriters = 0

    @Flag(help: "Keep the queue in a file of its own, apart from the app-like writes (default: the same file, as Agora does; SQLite only).")
    var separateFile = false

    @Flag(inversion: .prefixedNo, help: "On PostgreSQL, also run the embedded SQLite benchmark right after, as the same-run reference.")
    var reference = true

    func validate() throws {
        guard jobs > 0, concurrency > 0, batch > 0, pickupSamples > 0 else {
            throw ValidationError("--jobs, --concurrency, --batch and --pickup-samples must be positive")
        }
    }

    func run() async throws {
        let settings = try await common.settings()
        var logger = Logger(label: "agora-bench")
        logger.logLevel = max(settings.logLevel, .warning)
        guard let databaseURL = settings.databaseURL else {
            let result = try await runSQLite(logger: logger)
            if json { try printJSON(result) } else { printText(result) }
            return
        }
        guard appWriters == 0, !separateFile else {
            throw ValidationError("--app-writers and --separate-file measure the embedded SQLite writer: leave out --database-url")
        }
        var result = try await PostgresQueueBenchmark(serverURL: databaseURL, jobs: jobs, concurrency: concurrency, batch: batch,
                                                      pickupSamples: pickupSamples, logger: logger).run()
        if reference {
            let sqlite = try await runSQLite(logger: logger)
            result.reference = sqlite
            result.drainRatioToReference = result.drainPerSecond / sqlite.drainPerSecond
            result.pickupP99RatioToReference = result.pickupP99Ms / sqlite.pickupP99Ms
        }
        if json { try printJSON(result) } else { printText(result) }
    }

    /// The embedded queue in this process, on a fresh temporary SQLite database (or `--data-dir`).
    private func runSQLite(logger: Logger) async throws -> QueueBenchResult {
        let directory = common.dataDir.map { URL(fileURLWithPath: $0) }
            ?? FileManager.default.temporaryDirectory.appendingPathComponent("agora-bench-queue-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { if common.dataDir == nil { try? FileManager.default.removeItem(at: directory) } }
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
        return result
    }

    private func printJSON(_ result: some Encodable) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        print(String(decoding: try encoder.encode(result), as: UTF8.self))
    }

    private func printText(_ result: QueueBenchResult) {
        print("""
            jobs \(jobs), worker concurrency \(concurrency), enqueue batches of \(batch), embedded SQLite
            enqueue  : \(Int(result.enqueuePerSecond)) jobs/s (batched)
            drain    : \(Int(result.drainPerSecond)) jobs/s (no-op handlers, claim + run + acknowledge)
            pickup   : p50 \(ms(result.pickupP50Ms)) ms, p99 \(ms(result.pickupP99Ms)) ms, \
            max \(ms(result.pickupMaxMs)) ms (\(pickupSamples) single jobs into idle workers)
            lost \(result.lost), duplicates \(result.duplicates)
            """)
        if appWriters > 0 {
            print("app      : \(Int(result.appWritesPerSecond ?? 0)) one-row transactions/s during the drain from \(appWriters) writers, "
                  + (separateFile ? "queue in its own file" : "queue in the same file"))
        }
    }

    private func printText(_ result: PostgresQueueBenchResult) {
        func cores(_ value: Double?) -> String { value.map { String(format: "%.2f", $0) } ?? "?" }
        print("""
            jobs \(jobs), worker concurrency \(concurrency), enqueue batches of \(batch), PostgreSQL, worker in another process
            enqueue  : \(Int(result.enqueuePerSecond)) jobs/s (batched)
            drain    : \(Int(result.drainPerSecond)) jobs/s (no-op handlers, claim + run + acknowledge, woken by NOTIFY); \
            cores: bench \(cores(result.drainCoresBench)), worker \(cores(result.drainCoresWorker)), postgres \(cores(result.drainCoresPostgres)), \
            other processes \(cores(result.drainCoresOthers))
            pickup   : p50 \(ms(result.pickupP50Ms)) ms, p99 \(ms(result.pickupP99Ms)) ms, max \(ms(result.pickupMaxMs)) ms \
            (\(pickupSamples) single jobs into the idle worker, from before enqueue to the handler's start)
                       of which the enqueue's transaction: p50 \(ms(result.enqueueCallP50Ms)) ms, p99 \(ms(result.enqueueCallP99Ms)) ms; \
            after it returned: p50 \(ms(result.afterCommitP50Ms)) ms, p99 \(ms(result.afterCommitP99Ms)) ms; \
            other processes \(cores(result.pickupCoresOthers)) cores meanwhile
                       one round trip (SELECT 1) through the same store: p50 \(ms(result.roundTripP50Ms)) ms, p99 \(ms(result.roundTripP99Ms)) ms; \
            an empty transaction: p50 \(ms(result.emptyTransactionP50Ms)) ms, p99 \(ms(result.emptyTransactionP99Ms)) ms
            lost \(result.lost), duplicates \(result.duplicates)
            """)
        if let reference = result.reference {
            print("""
                reference, the embedded SQLite queue in one process, same parameters, right after:
                drain    : \(Int(reference.drainPerSecond)) jobs/s; PostgreSQL / SQLite = \(String(format: "%.2f", result.drainRatioToReference ?? 0))
                pickup   : p50 \(ms(reference.pickupP50Ms)) ms, p99 \(ms(reference.pickupP99Ms)) ms; \
                PostgreSQL / SQLite p99 = \(String(format: "%.2f", result.pickupP99RatioToReference ?? 0))
                enqueue  : \(Int(reference.enqueuePerSecond)) jobs/s; lost \(reference.lost), duplicates \(reference.duplicates)
                """)
        }
    }

    private func ms(_ value: Double) -> String { String(format: "%.3f", value) }
}

/// What `agora bench queue --json` prints.
struct QueueBenchResult: Encodable, Sendable {
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

/// A job carrying the time it was enqueued at (`monotonicNanos()`, comparable between the
/// processes of one machine), for the pickup latency.
struct PickupProbeJob: Job {
    static let name = "bench.pickup"
    var enqueuedAtNanos: UInt64
    var sample: Int
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
            let now = monotonicNanos()
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
        for sample in 0..<pickupSamples {
            try await Task.sleep(for: .milliseconds(2))
            try await queue.enqueue(PickupProbeJob(enqueuedAtNanos: monotonicNanos(), sample: sample))
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
