import Foundation
import Logging
import Queue
import Storage

/// `agora bench queue --database-url`: the queue on PostgreSQL with its worker in another process.
///
/// On a fresh database of its own on the server (created, then dropped): (1) `jobs` no-op jobs
/// enqueued in batches of `batch`, one transaction each, while the queue is paused; (2) the
/// queue resumed (its NOTIFY wakes the worker) and drained by the worker process
/// (`QueueBenchWorkerProcess`), until the database holds every job completed; (3) single probe
/// jobs enqueued one at a time, 2 ms after the previous one started, into the idle worker: the
/// pickup latency is from just before `enqueue` in this process to the start of the handler in
/// the worker, both read from `CLOCK_MONOTONIC`. The enqueue's own transaction (BEGIN, INSERT,
/// COMMIT with its WAL flush) is inside that figure, as it is in the SQLite benchmark's.
struct PostgresQueueBenchmark {
    let serverURL: String
    let jobs: Int
    let concurrency: Int
    let batch: Int
    let pickupSamples: Int
    let logger: Logger

    func run() async throws -> PostgresQueueBenchResult {
        let database = try await BenchDatabase.create(prefix: "agora_bench_queue", serverURL: serverURL)
        do {
            let result = try await measure(databaseURL: database.url, postmaster: database.postmasterPID)
            try await database.drop()
            return result
        } catch {
            try? await database.drop()
            throw error
        }
    }

    private func measure(databaseURL: String, postmaster: Int32?) async throws -> PostgresQueueBenchResult {
        let store = try await PostgresStore.open(url: databaseURL, connections: 4, logger: logger)
        let driver = PostgresQueueDriver(store: store)
        let worker: QueueBenchWorkerProcess
        do {
            try await driver.migrate()
            try await driver.pause(queue: "bench")
            worker = try QueueBenchWorkerProcess(databaseURL: databaseURL, jobs: jobs, concurrency: concurrency)
        } catch {
            try? await store.close()
            throw error
        }
        do {
            let result = try await measure(store: store, driver: driver, worker: worker, postmaster: postmaster)
            try await store.close()
            return result
        } catch {
            worker.kill()
            try? await store.close()
            throw error
        }
    }

    private func measure(store: PostgresStore, driver: PostgresQueueDriver, worker: QueueBenchWorkerProcess,
                         postmaster: Int32?) async throws -> PostgresQueueBenchResult {
        // This process only enqueues: its handlers never run, they make the jobs' registrations.
        let registry = JobRegistry()
        registry.register(BenchJob.self, queue: "bench") { _, _ in }
        registry.register(PickupProbeJob.self, queue: "bench") { _, _ in }
        let queue = JobQueue(driver: driver, registry: registry)
        guard try await worker.next(timeout: .seconds(60)) == .ready else { throw BenchFailure("the worker process did not start") }

        // 1. Batched enqueue, the queue paused.
        let clock = ContinuousClock()
        let enqueueStart = clock.now
        for start in stride(from: 0, to: jobs, by: batch) {
            try await queue.enqueue(batch: (start..<min(start + batch, jobs)).map { BenchJob(n: $0) })
        }
        let enqueueSeconds = (clock.now - enqueueStart).seconds

        // 2. Drain by the other process, from the resume's commit (its NOTIFY is the wake-up).
        let processes = CPUAccounts(worker: worker.process.processIdentifier, postmaster: postmaster)
        let cpuBefore = processes.snapshot()
        let drainStart = clock.now
        try await driver.resume(queue: "bench")
        // The worker says when its handlers ran every job; the database is asked only then, for
        // the last acknowledgements, so counting does not load the server being measured.
        guard case .drained = try await worker.next(timeout: .seconds(600)) else {
            throw BenchFailure("the worker process did not drain the jobs")
        }
        while try await completed(driver) < jobs { try await Task.sleep(for: .milliseconds(5)) }
        let drainSeconds = (clock.now - drainStart).seconds
        let drainCPU = processes.snapshot().cores(since: cpuBefore, over: drainSeconds)

        // 3. Pickup: single jobs into the idle worker, one at a time.
        var fromEnqueue: [Int64] = [], enqueueCalls: [Int64] = [], afterCommit: [Int64] = []
        let pickupCPUBefore = processes.snapshot()
        let pickupStart = clock.now
        for sample in 0..<pickupSamples {
            try await Task.sleep(for: .milliseconds(2))
            let before = monotonicNanos()
            try await queue.enqueue(PickupProbeJob(enqueuedAtNanos: before, sample: sample))
            let committed = monotonicNanos()
            guard case .pickup(sample, before, let started) = try await worker.next(timeout: .seconds(30)) else {
                throw BenchFailure("the worker process did not report pickup \(sample)")
            }
            fromEnqueue.append(Int64(started) - Int64(before))
            enqueueCalls.append(Int64(committed) - Int64(before))
            // The NOTIFY leaves at commit, before this process reads the COMMIT's answer: the job
            // may start before `enqueue` returns here, so this one can be negative.
            afterCommit.append(Int64(started) - Int64(committed))
        }
        let pickupCPU = processes.snapshot().cores(since: pickupCPUBefore, over: (clock.now - pickupStart).seconds)

        // 4. For the breakdown: one round trip through the same store, paced like the probes
        // (`SELECT 1`), and an empty transaction (BEGIN, SELECT 1, COMMIT).
        var roundTrips: [Int64] = [], transactions: [Int64] = []
        for _ in 0..<min(pickupSamples, 500) {
            try await Task.sleep(for: .milliseconds(2))
            let before = monotonicNanos()
            try await store.ping()
            let between = monotonicNanos()
            try await Task.sleep(for: .milliseconds(2))
            let start = monotonicNanos()
            try await store.transaction { db in _ = try await db.raw("SELECT 1 AS one").first() }
            roundTrips.append(Int64(between) - Int64(before))
            transactions.append(Int64(monotonicNanos()) - Int64(start))
        }
        guard case .summary(let executed, let lost, let duplicates) = try await worker.stop() else {
            throw BenchFailure("the worker process gave no summary")
        }
        guard executed >= jobs else { throw BenchFailure("the worker process ran \(executed) of \(jobs) jobs") }
        let pickup = Percentiles(fromEnqueue), calls = Percentiles(enqueueCalls), commit = Percentiles(afterCommit)
        let roundTrip = Percentiles(roundTrips), transaction = Percentiles(transactions)
        return PostgresQueueBenchResult(
            enqueuePerSecond: Double(jobs) / enqueueSeconds,
            drainPerSecond: Double(jobs) / drainSeconds,
            pickupP50Ms: pickup.ms(50), pickupP99Ms: pickup.ms(99), pickupMaxMs: pickup.ms(100),
            enqueueCallP50Ms: calls.ms(50), enqueueCallP99Ms: calls.ms(99),
            afterCommitP50Ms: commit.ms(50), afterCommitP99Ms: commit.ms(99),
            roundTripP50Ms: roundTrip.ms(50), roundTripP99Ms: roundTrip.ms(99),
            emptyTransactionP50Ms: transaction.ms(50), emptyTransactionP99Ms: transaction.ms(99),
            lost: lost, duplicates: duplicates,
            drainCoresBench: drainCPU.bench, drainCoresWorker: drainCPU.worker, drainCoresPostgres: drainCPU.postgres,
            drainCoresOthers: drainCPU.machine, pickupCoresOthers: pickupCPU.machine)
    }

    private func completed(_ driver: PostgresQueueDriver) async throws -> Int {
        try await driver.counts().filter { $0.queue == "bench" && $0.state == .completed }.reduce(0) { $0 + $1.count }
    }
}

/// What `agora bench queue --database-url --json` prints.
struct PostgresQueueBenchResult: Encodable {
    var enqueuePerSecond: Double
    var drainPerSecond: Double
    /// From just before `enqueue` in the benchmark to the handler's start in the worker process.
    var pickupP50Ms: Double
    var pickupP99Ms: Double
    var pickupMaxMs: Double
    /// The probe's `enqueue` alone: its transaction, committed.
    var enqueueCallP50Ms: Double
    var enqueueCallP99Ms: Double
    /// From `enqueue`'s return to the handler's start (negative when the job started first).
    var afterCommitP50Ms: Double
    var afterCommitP99Ms: Double
    /// One `SELECT 1` through the benchmark's `PostgresStore`, and an empty transaction (BEGIN,
    /// SELECT 1, COMMIT), each 2 ms after the last, as the probes are: the floor under the
    /// enqueue's transaction and the worker's claim.
    var roundTripP50Ms: Double
    var roundTripP99Ms: Double
    var emptyTransactionP50Ms: Double
    var emptyTransactionP99Ms: Double
    var lost: Int
    var duplicates: Int
    /// Cores used during the drain by the benchmark (enqueuing side), the worker process and
    /// the PostgreSQL server (its postmaster and every process it started).
    var drainCoresBench: Double?
    var drainCoresWorker: Double?
    var drainCoresPostgres: Double?
    /// Cores the machine's other processes used during the drain, and during the pickups: this
    /// benchmark shares two cores with whatever else runs.
    var drainCoresOthers: Double?
    var pickupCoresOthers: Double?
    /// The embedded SQLite benchmark (one process) run right after, with the same parameters.
    var reference: QueueBenchResult?
    var drainRatioToReference: Double?
    var pickupP99RatioToReference: Double?
}

/// Percentiles of a set of nanosecond samples (nearest rank).
struct Percentiles {
    private let sorted: [Int64]

    init(_ samples: [Int64]) { sorted = samples.sorted() }

    /// The `percentile` (0–100) in milliseconds; 100 is the maximum.
    func ms(_ percentile: Double) -> Double {
        guard !sorted.isEmpty else { return 0 }
        let rank = Int((percentile / 100 * Double(sorted.count)).rounded(.up))
        return Double(sorted[min(max(rank, 1), sorted.count) - 1]) / 1_000_000
    }
}

/// The CPU time of the processes a queue run involves: this one, the worker process, the
/// PostgreSQL server's processes (on the same machine), and the whole machine, so that what
/// other processes took from the shared cores meanwhile shows too.
struct CPUAccounts {
    let worker: Int32
    /// The PostgreSQL server's postmaster, when it runs on this machine.
    let postmaster: Int32?

    struct Snapshot {
        var bench: Double?, worker: Double?, postgres: Double?, machine: Double?

        /// Cores used from `before` to this snapshot; `machine` becomes what the other processes
        /// of the machine used.
        func cores(since before: Snapshot, over seconds: Double) -> Snapshot {
            func cores(_ a: Double?, _ b: Double?) -> Double? {
                guard let a, let b, seconds > 0 else { return nil }
                return (b - a) / seconds
            }
            let (bench, worker, postgres) = (cores(before.bench, bench), cores(before.worker, worker), cores(before.postgres, postgres))
            let others = cores(before.machine, machine).map { $0 - (bench ?? 0) - (worker ?? 0) - (postgres ?? 0) }
            return Snapshot(bench: bench, worker: worker, postgres: postgres, machine: others.map { max(0, $0) })
        }
    }

    func snapshot() -> Snapshot {
        Snapshot(bench: ProcessStatus(pid: getpid()).cpuSeconds, worker: ProcessStatus(pid: worker).cpuSeconds,
                 postgres: postmaster.flatMap { ProcessStatus.cpuSeconds(ofTreeRootedAt: $0) }, machine: ProcessStatus.machineBusySeconds)
    }
}
