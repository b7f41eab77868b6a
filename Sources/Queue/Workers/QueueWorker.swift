import Logging
import ServiceLifecycle
import Storage
import Synchronization

/// How a worker process runs its queues.
public struct WorkerConfiguration: Sendable {
    /// The queues to work, and how many jobs of each may run at once.
    public var queues: [String: Int]
    /// How long a claim is held without a heartbeat; heartbeats renew it every third of this.
    public var leaseDuration: Duration
    /// How long an idle worker waits before looking again when nothing woke it (jobs enqueued by
    /// another process, delayed jobs coming due).
    public var pollInterval: Duration
    /// On shutdown, how long running jobs may go on before they are cancelled and released.
    public var shutdownGrace: Duration
    /// How often expired leases are looked for (orphan rescue) and finished jobs pruned.
    public var maintenanceInterval: Duration
    /// Completed and cancelled jobs are deleted this long after they finished.
    public var keepFinishedFor: Duration

    public init(queues: [String: Int] = ["default": 10], leaseDuration: Duration = .seconds(30),
                pollInterval: Duration = .seconds(1), shutdownGrace: Duration = .seconds(10),
                maintenanceInterval: Duration = .seconds(5), keepFinishedFor: Duration = .seconds(86_400)) {
        precondition(queues.values.allSatisfy { $0 > 0 }, "concurrency is at least 1")
        self.queues = queues
        self.leaseDuration = leaseDuration
        self.pollInterval = pollInterval
        self.shutdownGrace = shutdownGrace
        self.maintenanceInterval = maintenanceInterval
        self.keepFinishedFor = keepFinishedFor
    }
}

/// Runs jobs: claims them under leases, runs their handlers, acknowledges, retries, renews leases,
/// rescues jobs of lost workers, and on graceful shutdown lets running jobs finish up to a
/// deadline, then cancels them and releases their leases back to pending.
///
/// Written by hand (with the queue as a whole): no available package runs jobs from SQLite with
/// leases and fencing.
public final class QueueWorker: Service {
    public let configuration: WorkerConfiguration
    private let driver: any QueueDriver
    private let registry: JobRegistry
    private let logger: Logger
    private let running = RunningJobs()
    /// Wakes the claim loops of a queue when one of its slots comes free (or a claim came back full).
    private let slotFreed = JobArrivals()
    private let completions: CompletionBatcher
    private let metrics: QueueMetrics

    public init(driver: any QueueDriver, registry: JobRegistry, configuration: WorkerConfiguration, logger: Logger,
                metrics: QueueMetrics = QueueMetrics()) {
        self.metrics = metrics
        self.driver = driver
        self.registry = registry
        self.configuration = configuration
        self.logger = logger
        self.completions = CompletionBatcher(driver: driver, logger: logger)
    }

    /// Runs until graceful shutdown (or cancellation), then drains as described above.
    public func run() async {
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                for (queue, concurrency) in configuration.queues {
                    let slots = ClaimSlots(concurrency: concurrency)
                    for claimer in 0..<max(1, driver.overlappingClaims) {
                        group.addTask { await self.claimAndRun(queue: queue, slots: slots, primary: claimer == 0) }
                    }
                }
                group.addTask { await self.renewLeases() }
                group.addTask { await self.fireSchedules() }
                group.addTask { await self.maintain() }
                group.addTask { await self.cancelRunningJobsAfterGrace() }
                await group.waitForAll()
            }
        } onGracefulShutdown: { [driver, configuration, slotFreed] in
            // Wake every waiting claim loop, so that it sees the shutdown and stops claiming.
            driver.arrivals.signal(configuration.queues.keys)
            slotFreed.signal(configuration.queues.keys)
        }
    }

    /// One claim loop of `queue`: claims into free slots and runs the jobs until shutdown, then
    /// waits for its running jobs. The primary loop waits for arrivals when the queue is empty;
    /// the others (see `QueueDriver.overlappingClaims`) claim only while a backlog lasts (the
    /// last claim of the queue came back full), so an idle queue costs one claim per arrival.
    private func claimAndRun(queue: String, slots: ClaimSlots, primary: Bool) async {
        await withDiscardingTaskGroup { jobs in
            while !isShuttingDown {
                if !primary && !slots.backlog {
                    await slotFreed.wait(for: queue, timeout: configuration.pollInterval)
                    continue
                }
                let free = slots.reserve(occupied: running.occupied(in: queue, concurrency: slots.concurrency))
                if free <= 0 {
                    await slotFreed.wait(for: queue, timeout: configuration.pollInterval)
                    continue
                }
                let claimed: [ClaimedJob]
                do {
                    claimed = try await driver.claimNextJobs(queue: queue, limit: free, leaseFor: configuration.leaseDuration)
                } catch {
                    slots.settle(reserved: free, claimed: 0)
                    logger.error("claiming jobs failed", metadata: ["queue": "\(queue)", "error": "\(error)"])
                    try? await Task.sleep(for: configuration.pollInterval)
                    continue
                }
                for job in claimed {
                    running.start(job)
                    jobs.addTask {
                        await self.execute(job)
                        self.running.finish(job.id)
                        self.slotFreed.signal(CollectionOfOne(queue))
                    }
                }
                // A full claim means more jobs are likely due: the other claim loops join in.
                if slots.settle(reserved: free, claimed: claimed.count) { slotFreed.signal(CollectionOfOne(queue)) }
                if claimed.isEmpty && primary {
                    await driver.arrivals.wait(for: queue, timeout: await idleWait(queue: queue))
                }
            }
        }
    }

    /// How long an idle worker of `queue` sleeps unless woken: until its next job is due, at most
    /// the poll interval.
    private func idleWait(queue: String) async -> Duration {
        guard let next = try? await driver.nextRunAt(queue: queue) else { return configuration.pollInterval }
        let untilDue = Duration.milliseconds(max(0, next.milliseconds - Timestamp.now.milliseconds))
        return min(max(untilDue, .milliseconds(1)), configuration.pollInterval)
    }

    private var isShuttingDown: Bool { Task.isShuttingDownGracefully || Task.isCancelled }

    /// Runs one claimed job and records its outcome under its lease. A job that succeeded frees its
    /// slot while its acknowledgement is committed: see `RunningJobs.occupied`.
    private func execute(_ job: ClaimedJob) async {
        let context = JobContext(id: job.id, queue: job.queue, attempt: job.attempt, maxAttempts: job.maxAttempts,
                                 enqueuedAt: job.createdAt)
        let registration = registry.registration(of: job.kind)
        metrics.started(job)
        let clock = ContinuousClock()
        let start = clock.now
        let outcome: Result<Void, any Error>
        if let registration {
            let execution = Task { try await registration.run(job.payload, context) }
            running.attach(execution, to: job.id)
            outcome = await withTaskCancellationHandler { await execution.result } onCancel: { execution.cancel() }
        } else {
            outcome = .failure(UnknownJobKind(kind: job.kind))
        }
        metrics.finished(job, after: clock.now - start)
        do {
            switch outcome {
            case .success:
                metrics.succeeded(queue: job.queue)
                running.acknowledging(job.id)
                slotFreed.signal(CollectionOfOne(job.queue))
                await completions.complete(job.lease)
            case .failure(let error) where running.wasLost(job.id):
                // The job was cancelled or its lease reclaimed: the store refuses this outcome anyway.
                logger.info("job execution stopped: cancelled or lease lost", metadata: ["job": "\(job.id)", "error": "\(error)"])
            case .failure(let error) where running.wasReleased(job.id) || Task.isCancelled:
                // Cancelled by shutdown: back to pending, the attempt not counted.
                logger.debug("job released at shutdown", metadata: ["job": "\(job.id)", "error": "\(error)"])
                try await driver.release([job.lease])
            case .failure(let error as any UnretryableJobError):
                logger.error("job failed and cannot succeed; the job is dead",
                             metadata: ["job": "\(job.id)", "kind": "\(job.kind)", "error": "\(error)"])
                metrics.failed(queue: job.queue)
                if try await driver.fail(job.lease, error: error.description, retryAt: nil) { metrics.dead(queue: job.queue) }
            case .failure(let error):
                let retry = registration?.retry ?? .default
                let retryAt = job.attempt < job.maxAttempts ? Timestamp.now.adding(retry.delay(afterAttempt: job.attempt)) : nil
                logger.warning("job failed", metadata: ["job": "\(job.id)", "kind": "\(job.kind)", "attempt": "\(job.attempt)",
                                                        "error": "\(error)", "retry": "\(retryAt.map { "\($0.iso8601)" } ?? "dead")"])
                metrics.failed(queue: job.queue)
                if try await driver.fail(job.lease, error: "\(error)", retryAt: retryAt) {
                    if retryAt == nil { metrics.dead(queue: job.queue) } else { metrics.retried(queue: job.queue) }
                }
            }
        } catch {
            // The outcome is not recorded; the lease expires and the job is rescued and run again.
            logger.error("recording a job's outcome failed", metadata: ["job": "\(job.id)", "error": "\(error)"])
        }
    }

    /// Renews the leases of running jobs every third of the lease; cancels the executions whose
    /// lease was lost (reclaimed after a stall, or the job cancelled).
    private func renewLeases() async {
        let interval = configuration.leaseDuration / 3
        let step = min(interval, .milliseconds(50))
        let clock = ContinuousClock()
        var lastRenewal = clock.now
        while !(isShuttingDown && running.isEmpty) {
            if Task.isCancelled { return }
            try? await Task.sleep(for: step)
            guard clock.now - lastRenewal >= interval else { continue }
            lastRenewal = clock.now
            let leases = running.leases()
            guard !leases.isEmpty else { continue }
            do {
                let held = try await driver.renewLeases(leases, leaseFor: configuration.leaseDuration)
                for lease in leases where !held.contains(lease.id) {
                    logger.info("job lease lost or job cancelled; cancelling its execution", metadata: ["job": "\(lease.id)"])
                    running.cancel(lease.id)
                }
            } catch {
                logger.error("renewing leases failed", metadata: ["error": "\(error)"])
            }
        }
    }

    /// Fires the registry's recurring schedules until shutdown.
    private func fireSchedules() async {
        let runner = ScheduleRunner(driver: driver, schedules: registry.schedules, logger: logger, now: { .now })
        guard !runner.schedules.isEmpty else { return }
        var next: ScheduleRunner.NextSlots = [:]
        while !isShuttingDown {
            do {
                next = try await runner.start()
                break
            } catch {
                logger.error("reading recurring schedules failed", metadata: ["error": "\(error)"])
                await cancelWhenGracefulShutdown { [configuration] in try? await Task.sleep(for: configuration.pollInterval) }
            }
        }
        while !isShuttingDown {
            let earliest = await runner.fireDue(&next)
            let wait = earliest.map { Duration.milliseconds(max(10, $0.milliseconds - Timestamp.now.milliseconds)) } ?? .seconds(60)
            await cancelWhenGracefulShutdown { try? await Task.sleep(for: min(wait, .seconds(60))) }
        }
    }

    /// Rescues jobs whose worker vanished and prunes old finished jobs, until shutdown.
    private func maintain() async {
        while !isShuttingDown {
            do {
                let rescued = try await driver.rescueExpiredLeases()
                if rescued > 0 { logger.warning("rescued jobs with expired leases", metadata: ["count": "\(rescued)"]) }
                try await driver.pruneFinished(before: Timestamp.now.adding(.zero - configuration.keepFinishedFor))
                metrics.depth(try await driver.counts())
            } catch {
                logger.error("queue maintenance failed", metadata: ["error": "\(error)"])
            }
            await cancelWhenGracefulShutdown { [configuration] in try? await Task.sleep(for: configuration.maintenanceInterval) }
        }
    }

    /// Once shutdown begins, waits `shutdownGrace`, then cancels every job still running; their
    /// leases are released as they end.
    private func cancelRunningJobsAfterGrace() async {
        try? await gracefulShutdown()
        var waited = Duration.zero
        let step = Duration.milliseconds(20)
        while !running.isEmpty && waited < configuration.shutdownGrace {
            try? await Task.sleep(for: step)
            waited += step
        }
        running.releaseAll()
    }
}

/// A claimed job of a kind this process has no handler for; retried, since another worker may know it.
public struct UnknownJobKind: Error, CustomStringConvertible {
    public let kind: String
    public var description: String { "no handler is registered for job kind \(kind)" }
}

/// The slots of one queue that its claim loops have reserved for claims in flight, and whether
/// the last claim came back full (a backlog: more jobs are likely due).
final class ClaimSlots: Sendable {
    let concurrency: Int
    private let state = Mutex<(reserved: Int, backlog: Bool)>((0, false))

    init(concurrency: Int) {
        self.concurrency = concurrency
    }

    var backlog: Bool { state.withLock { $0.backlog } }

    /// Reserves every slot neither `occupied` by jobs nor reserved by another claim; returns how many.
    func reserve(occupied: Int) -> Int {
        state.withLock { state in
            let free = concurrency - occupied - state.reserved
            guard free > 0 else { return 0 }
            state.reserved += free
            return free
        }
    }

    /// Ends a claim that reserved `reserved` slots (its jobs now count as running); true if it came back full.
    @discardableResult
    func settle(reserved: Int, claimed: Int) -> Bool {
        state.withLock { state in
            state.reserved -= reserved
            state.backlog = claimed >= reserved
            return state.backlog
        }
    }
}

/// The jobs this worker is running, their leases and executions.
final class RunningJobs: Sendable {
    private struct Entry {
        let job: ClaimedJob
        var execution: Task<Void, any Error>?
        var released = false
        var lost = false
        /// The handler succeeded; the acknowledgement is on its way to the store.
        var acknowledging = false
    }
    private let entries = Mutex<[JobID: Entry]>([:])

    var isEmpty: Bool { entries.withLock { $0.isEmpty } }

    /// The slots of `queue` taken: its handlers running, and its succeeded jobs awaiting their
    /// acknowledgement beyond `concurrency` of them. A job whose handler succeeded stays here (its
    /// lease renewed) until the store has its completion, but lets another job start meanwhile:
    /// on a database server the acknowledgement is a round trip, and a slot held through it would
    /// make claims wait for acknowledgements (a drain at 32 slots ran a fifth as fast as on SQLite).
    /// Beyond `concurrency` waiting acknowledgements, slots are held again, which bounds the backlog
    /// when the store is slow.
    func occupied(in queue: String, concurrency: Int) -> Int {
        entries.withLock { entries in
            var running = 0, acknowledging = 0
            for entry in entries.values where entry.job.queue == queue {
                if entry.acknowledging { acknowledging += 1 } else { running += 1 }
            }
            return running + max(0, acknowledging - concurrency)
        }
    }

    func acknowledging(_ id: JobID) {
        entries.withLock { $0[id]?.acknowledging = true }
    }

    func start(_ job: ClaimedJob) {
        entries.withLock { $0[job.id] = Entry(job: job) }
    }

    func attach(_ execution: Task<Void, any Error>, to id: JobID) {
        let cancelNow = entries.withLock { entries -> Bool in
            entries[id]?.execution = execution
            return entries[id]?.released ?? false
        }
        if cancelNow { execution.cancel() }
    }

    func finish(_ id: JobID) {
        entries.withLock { _ = $0.removeValue(forKey: id) }
    }

    func leases() -> [JobLease] {
        entries.withLock { $0.values.map(\.job.lease) }
    }

    func wasReleased(_ id: JobID) -> Bool {
        entries.withLock { $0[id]?.released ?? false }
    }

    func wasLost(_ id: JobID) -> Bool {
        entries.withLock { $0[id]?.lost ?? false }
    }

    /// Cancels one execution (its lease was lost); its outcome will be refused by the store.
    func cancel(_ id: JobID) {
        let execution = entries.withLock { entries -> Task<Void, any Error>? in
            entries[id]?.lost = true
            return entries[id]?.execution
        }
        execution?.cancel()
    }

    /// Marks every running job for release and cancels its execution (shutdown deadline).
    func releaseAll() {
        let executions = entries.withLock { entries -> [Task<Void, any Error>] in
            for id in entries.keys { entries[id]?.released = true }
            return entries.values.compactMap(\.execution)
        }
        for execution in executions { execution.cancel() }
    }
}
