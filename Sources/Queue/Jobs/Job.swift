import Storage

/// A kind of work, carried by the queue as its Codable payload and registered under `name`.
///
/// The name is what is stored, so it must stay the same for as long as jobs of the kind may be
/// waiting: renaming a type is fine, renaming `name` is not.
public protocol Job: Codable, Sendable {
    /// The stored kind, unique among registered jobs (`"mail.verification"`).
    static var name: String { get }
}

/// The stored identifier of a job.
public typealias JobID = Int64

/// Where a job is in its life.
///
/// ```
/// pending ──claim──▶ running ──success──▶ completed
///    ▲                 │
///    └──retry / lease expired / released──┤
///                      └──attempts used up / payload unreadable──▶ dead
/// pending ──cancel──▶ cancelled        dead ──retry──▶ pending
/// ```
/// A pending job whose `runAt` is in the future is scheduled: it is claimed only once due.
public enum JobState: String, Sendable, Codable, CaseIterable {
    case pending, running, completed, dead, cancelled
}

/// How to enqueue one job. Unset fields take the defaults of the job's registration or the queue's.
public struct EnqueueOptions: Sendable {
    /// The queue whose workers run it; `"default"` unless set.
    public var queue: String?
    /// Not before this time (a delayed job); now unless set.
    public var runAt: Timestamp?
    /// Higher runs first among due jobs of a queue; 0 unless set.
    public var priority: Int
    /// Executions allowed before the job is dead; 25 unless set.
    public var maxAttempts: Int?
    /// While a job with this key is pending or running, enqueueing another returns that job.
    public var uniqueKey: String?

    public init(queue: String? = nil, runAt: Timestamp? = nil, delay: Duration? = nil, priority: Int = 0,
                maxAttempts: Int? = nil, uniqueKey: String? = nil) {
        self.queue = queue
        self.runAt = runAt ?? delay.map { Timestamp.now.adding($0) }
        self.priority = priority
        self.maxAttempts = maxAttempts
        self.uniqueKey = uniqueKey
    }
}

/// The outcome of an enqueue: the job's id, and whether an existing live job with the same unique
/// key was returned instead of a new one.
public struct EnqueuedJob: Sendable, Hashable {
    public let id: JobID
    public let isExisting: Bool

    public init(id: JobID, isExisting: Bool) {
        self.id = id
        self.isExisting = isExisting
    }
}

/// One failed execution, as kept in a job's history.
public struct JobAttemptError: Sendable, Codable, Hashable {
    public let attempt: Int
    public let at: Timestamp
    public let error: String

    public init(attempt: Int, at: Timestamp, error: String) {
        self.attempt = attempt
        self.at = at
        self.error = error
    }
}

/// A job as stored, for listing and inspection.
public struct JobRecord: Sendable, Hashable {
    public let id: JobID
    public let kind: String
    public let queue: String
    public let state: JobState
    public let payload: String
    public let priority: Int
    public let attempt: Int
    public let maxAttempts: Int
    public let runAt: Timestamp
    public let createdAt: Timestamp
    public let finishedAt: Timestamp?
    public let uniqueKey: String?
    public let lastError: String?
    public let errors: [JobAttemptError]

    public init(id: JobID, kind: String, queue: String, state: JobState, payload: String, priority: Int, attempt: Int,
                maxAttempts: Int, runAt: Timestamp, createdAt: Timestamp, finishedAt: Timestamp?, uniqueKey: String?,
                lastError: String?, errors: [JobAttemptError]) {
        self.id = id
        self.kind = kind
        self.queue = queue
        self.state = state
        self.payload = payload
        self.priority = priority
        self.attempt = attempt
        self.maxAttempts = maxAttempts
        self.runAt = runAt
        self.createdAt = createdAt
        self.finishedAt = finishedAt
        self.uniqueKey = uniqueKey
        self.lastError = lastError
        self.errors = errors
    }
}

/// What a handler learns about the execution it runs.
public struct JobContext: Sendable {
    public let id: JobID
    public let queue: String
    /// 1 on the first execution; a reclaimed lease counts as an execution.
    public let attempt: Int
    public let maxAttempts: Int
    /// The same for every execution of this job: key side effects by it to apply them once.
    public var idempotencyKey: String { "job-\(id)" }
    public let enqueuedAt: Timestamp
}
