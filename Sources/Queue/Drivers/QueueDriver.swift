import SQLKit
import Storage

/// A job to store, its options resolved.
public struct NewJob: Sendable, Hashable {
    public var kind: String
    public var queue: String
    /// The job's JSON.
    public var payload: String
    public var priority: Int
    public var maxAttempts: Int
    public var runAt: Timestamp
    public var uniqueKey: String?

    public init(kind: String, queue: String, payload: String, priority: Int = 0, maxAttempts: Int = 25,
                runAt: Timestamp = .now, uniqueKey: String? = nil) {
        self.kind = kind
        self.queue = queue
        self.payload = payload
        self.priority = priority
        self.maxAttempts = maxAttempts
        self.runAt = runAt
        self.uniqueKey = uniqueKey
    }
}

/// A claim on a running job: only the holder of the current token may finish, fail, renew or
/// release it (the token changes with every claim, so a worker whose lease expired and was
/// reclaimed cannot overwrite the new holder's outcome).
public struct JobLease: Sendable, Hashable {
    public let id: JobID
    public let token: Int64

    public init(id: JobID, token: Int64) {
        self.id = id
        self.token = token
    }
}

/// A job taken for execution under a lease.
public struct ClaimedJob: Sendable, Hashable {
    public let lease: JobLease
    public let kind: String
    public let queue: String
    public let payload: String
    /// This execution's number, 1-based.
    public let attempt: Int
    public let maxAttempts: Int
    public let createdAt: Timestamp
    public let priority: Int
    public let runAt: Timestamp

    public var id: JobID { lease.id }

    public init(lease: JobLease, kind: String, queue: String, payload: String, attempt: Int, maxAttempts: Int,
                createdAt: Timestamp, priority: Int, runAt: Timestamp) {
        self.lease = lease
        self.kind = kind
        self.queue = queue
        self.payload = payload
        self.attempt = attempt
        self.maxAttempts = maxAttempts
        self.createdAt = createdAt
        self.priority = priority
        self.runAt = runAt
    }
}

/// How many jobs of a queue are in a state.
public struct QueueCount: Sendable, Hashable {
    public let queue: String
    public let state: JobState
    public let count: Int

    public init(queue: String, state: JobState, count: Int) {
        self.queue = queue
        self.state = state
        self.count = count
    }
}

/// Everything the queue needs from its storage; one implementation per engine.
///
/// The semantics are fixed by the conformance suite (Tests/QueueTests), which every driver passes.
/// All times are the driver's clock (`Timestamp.now`) unless given.
public protocol QueueDriver: Sendable {
    /// Creates or updates the queue's tables.
    func migrate() async throws

    /// Stores `jobs` in one transaction of their own.
    func insert(_ jobs: [NewJob]) async throws -> [EnqueuedJob]

    /// Stores `jobs` inside the caller's transaction `db`: they commit or roll back with it.
    func insert(_ jobs: [NewJob], on db: any SQLDatabase) async throws -> [EnqueuedJob]

    /// Stores topic subscriptions (added or updated; never removed here).
    func saveSubscriptions(_ subscriptions: [TopicSubscription]) async throws

    /// Inserts one job per stored subscriber group of `topic`, in a transaction of its own.
    func publish(topic: String, payload: String) async throws -> [EnqueuedJob]

    /// Inserts one job per stored subscriber group of `topic` inside the caller's transaction `db`.
    func publish(topic: String, payload: String, on db: any SQLDatabase) async throws -> [EnqueuedJob]

    /// The latest slot fired for the recurring schedule `schedule`, or nil if it never fired.
    func lastFiredSlot(schedule: String) async throws -> Timestamp?

    /// Fires `slot` of `schedule`: records the slot and inserts `job` in one transaction. Nil when
    /// the slot already fired (in any process): each slot fires once.
    func fireScheduleSlot(schedule: String, slot: Timestamp, job: NewJob) async throws -> EnqueuedJob?

    /// Takes up to `limit` due pending jobs of `queue` (priority first, then run time, then age),
    /// unless the queue is paused, leasing each for `leaseFor` and counting an attempt.
    func claimNextJobs(queue: String, limit: Int, leaseFor: Duration) async throws -> [ClaimedJob]

    /// The earliest run time among pending jobs of `queue` (due or not), or nil if there are none
    /// or the queue is paused; an idle worker sleeps until then at most.
    func nextRunAt(queue: String) async throws -> Timestamp?

    /// Marks jobs completed; returns the ids whose lease was still current (the rest are ignored).
    @discardableResult
    func complete(_ leases: [JobLease]) async throws -> Set<JobID>

    /// Records a failed execution: back to pending at `retryAt`, or dead when nil. False when the
    /// lease was no longer current.
    @discardableResult
    func fail(_ lease: JobLease, error: String, retryAt: Timestamp?) async throws -> Bool

    /// Extends the leases still held and returns their ids; a job missing from the answer was
    /// reclaimed or cancelled, and its execution should stop.
    func renewLeases(_ leases: [JobLease], leaseFor: Duration) async throws -> Set<JobID>

    /// Gives running jobs back to pending without counting the attempt (a worker shutting down).
    func release(_ leases: [JobLease]) async throws

    /// Returns running jobs whose lease expired to pending (dead if their attempts are used up);
    /// the lost execution counts as an attempt. Returns how many were rescued.
    @discardableResult
    func rescueExpiredLeases() async throws -> Int

    /// Cancels a pending or running job; false if it was neither. A running job's lease stops
    /// being renewable, which tells its worker to cancel the execution.
    @discardableResult
    func cancel(_ id: JobID) async throws -> Bool

    /// Stops and restarts claims from `queue`; jobs can still be enqueued while it is paused.
    func pause(queue: String) async throws
    func resume(queue: String) async throws
    func pausedQueues() async throws -> Set<String>

    /// One job, or nil.
    func job(_ id: JobID) async throws -> JobRecord?

    /// Jobs newest first, optionally only in `state` and of `queue`, with ids below `before` (a page's cursor).
    func jobs(in state: JobState?, queue: String?, before: JobID?, limit: Int) async throws -> [JobRecord]

    /// Puts a dead or cancelled job back to pending, due now, with a fresh set of attempts; its
    /// error history is kept. False if it was in another state.
    @discardableResult
    func retry(_ id: JobID) async throws -> Bool

    /// Deletes a dead or cancelled job. False if it was in another state.
    @discardableResult
    func discard(_ id: JobID) async throws -> Bool

    /// Jobs per queue and state (states with none are left out).
    func counts() async throws -> [QueueCount]

    /// Deletes completed and cancelled jobs finished before `cutoff` (and schedule slots fired
    /// before it, but each schedule's latest); returns how many jobs.
    @discardableResult
    func pruneFinished(before cutoff: Timestamp) async throws -> Int

    /// Wakes idle workers of this process when jobs are committed (including by transactional
    /// enqueue, once the caller's transaction commits).
    var arrivals: JobArrivals { get }

    /// How many claims of one queue a worker may have in flight while a backlog lasts. One where a
    /// claim is cheap and serial anyway (SQLite's single writer); more where each claim is a round
    /// trip to a server, which would otherwise leave slots idle while it travels.
    var overlappingClaims: Int { get }
}

extension QueueDriver {
    public var overlappingClaims: Int { 1 }
}
