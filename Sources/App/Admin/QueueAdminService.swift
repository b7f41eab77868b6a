import Queue
import Storage

/// What an admin sees of a queue: its depth by state and whether it is paused.
public struct QueueSummary: Sendable, Equatable {
    public var name: String
    public var paused: Bool
    public var counts: [JobState: Int]
}

/// The queue as admins inspect and steer it: depths, jobs, retry, removal, pause and resume.
/// Every call requires an admin identity (`forbidden` otherwise).
public struct QueueAdminService: Sendable {
    let queue: JobQueue

    /// Every queue with jobs, a registration or a pause, by name.
    public func queues(by identity: Identity) async throws -> [QueueSummary] {
        try Self.requireAdmin(identity)
        let counts = try await queue.driver.counts()
        let paused = try await queue.driver.pausedQueues()
        let names = Set(counts.map(\.queue)).union(queue.registry.queues).union(paused)
        return names.sorted().map { name in
            var byState = Dictionary(uniqueKeysWithValues: JobState.allCases.map { ($0, 0) })
            for count in counts where count.queue == name { byState[count.state] = count.count }
            return QueueSummary(name: name, paused: paused.contains(name), counts: byState)
        }
    }

    /// Jobs newest first, optionally in one state and queue.
    public func jobs(state: JobState?, queue name: String?, page: PageRequest, by identity: Identity) async throws -> [JobRecord] {
        try Self.requireAdmin(identity)
        return try await queue.driver.jobs(in: state, queue: name, before: page.after, limit: page.limit + 1)
    }

    /// Puts a dead or cancelled job back to pending; `conflict` in any other state.
    public func retry(_ id: JobID, by identity: Identity) async throws -> JobRecord {
        try Self.requireAdmin(identity)
        guard let job = try await queue.driver.job(id) else { throw ServiceError.notFound("The job") }
        guard try await queue.driver.retry(id), let retried = try await queue.driver.job(id) else {
            throw ServiceError.conflict(code: "job_not_retryable",
                                        message: "Only dead or cancelled jobs can be retried; this one is \(job.state.rawValue).")
        }
        return retried
    }

    /// What removing a job did.
    public enum Removal: Sendable, Equatable {
        /// The job is gone.
        case deleted
        /// The job was running: it is cancelled, and its worker stops it at its next heartbeat.
        case cancelled(JobRecord)
    }

    /// Deletes a pending, dead or cancelled job (a pending one is cancelled first, so no worker
    /// takes it); cancels a running one. Completed jobs are left to pruning (`conflict`).
    public func remove(_ id: JobID, by identity: Identity) async throws -> Removal {
        try Self.requireAdmin(identity)
        guard let job = try await queue.driver.job(id) else { throw ServiceError.notFound("The job") }
        switch job.state {
        case .running:
            _ = try await queue.driver.cancel(id)
            return .cancelled(try await queue.driver.job(id) ?? job)
        case .pending:
            _ = try await queue.driver.cancel(id)
            // A worker may have claimed it in between; then it is cancelled, not deleted.
            if try await queue.driver.discard(id) { return .deleted }
            return .cancelled(try await queue.driver.job(id) ?? job)
        case .dead, .cancelled:
            _ = try await queue.driver.discard(id)
            return .deleted
        case .completed:
            throw ServiceError.conflict(code: "job_completed", message: "Completed jobs are pruned automatically.")
        }
    }

    /// Stops (`paused: true`) or restarts claims from a queue; returns its summary.
    public func setPaused(_ paused: Bool, queue name: String, by identity: Identity) async throws -> QueueSummary {
        try Self.requireAdmin(identity)
        guard !name.isEmpty, name.count <= 100 else { throw ServiceError.notFound("The queue") }
        if paused { try await queue.driver.pause(queue: name) } else { try await queue.driver.resume(queue: name) }
        guard let summary = try await queues(by: identity).first(where: { $0.name == name }) else {
            throw ServiceError.notFound("The queue")
        }
        return summary
    }

    private static func requireAdmin(_ identity: Identity) throws {
        guard identity.isAdmin else { throw ServiceError.forbidden }
    }
}
