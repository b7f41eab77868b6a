import Hummingbird
import Queue
import Storage

/// `/api/admin/*`: the queue dashboard's API, for admins only (403 for everyone else).
struct AdminController {
    let queues: QueueAdminService

    func addRoutes(to routes: RouteTable) {
        let admin = routes.group("/api/admin")
        admin.get("queues", use: listQueues)
        admin.post("queues/{name}/pause", use: pause)
        admin.post("queues/{name}/resume", use: resume)
        admin.get("jobs", use: listJobs)
        admin.post("jobs/{id}/retry", use: retry)
        admin.delete("jobs/{id}", use: remove)
    }

    @Sendable func listQueues(_ request: Request, context: AppRequestContext) async throws -> ItemsDTO<QueueDTO> {
        ItemsDTO(items: try await queues.queues(by: try context.requireIdentity()).map(QueueDTO.init))
    }

    @Sendable func pause(_ request: Request, context: AppRequestContext) async throws -> QueueDTO {
        try await setPaused(true, context: context)
    }

    @Sendable func resume(_ request: Request, context: AppRequestContext) async throws -> QueueDTO {
        try await setPaused(false, context: context)
    }

    @Sendable func listJobs(_ request: Request, context: AppRequestContext) async throws -> Page<JobDTO> {
        let identity = try context.requireIdentity()
        let page = try PageRequest(query: request)
        let parameters = request.uri.queryParameters
        var state: JobState?
        if let text = parameters["state"].map(String.init), !text.isEmpty {
            guard let value = JobState(rawValue: text) else {
                throw ServiceError.invalid("state", "must be one of \(JobState.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            state = value
        }
        let queue = parameters["queue"].map(String.init).flatMap { $0.isEmpty ? nil : $0 }
        let rows = try await queues.jobs(state: state, queue: queue, page: page, by: identity)
        return page.page(from: rows, key: \.id, map: JobDTO.init)
    }

    @Sendable func retry(_ request: Request, context: AppRequestContext) async throws -> JobDTO {
        let identity = try context.requireIdentity()
        return JobDTO(try await queues.retry(try context.id(of: "The job"), by: identity))
    }

    @Sendable func remove(_ request: Request, context: AppRequestContext) async throws -> Response {
        let identity = try context.requireIdentity()
        switch try await queues.remove(try context.id(of: "The job"), by: identity) {
        case .deleted:
            return Response(status: .noContent)
        case .cancelled(let job):
            return try EditedResponse(status: .accepted, response: JobDTO(job)).response(from: request, context: context)
        }
    }

    private func setPaused(_ paused: Bool, context: AppRequestContext) async throws -> QueueDTO {
        let identity = try context.requireIdentity()
        guard let name = context.parameters.get("name") else { throw ServiceError.notFound("The queue") }
        return QueueDTO(try await queues.setPaused(paused, queue: name, by: identity))
    }
}

/// A queue's depth by state.
struct QueueDTO: Encodable, Sendable, ResponseEncodable {
    var name: String
    var paused: Bool
    var counts: [String: Int]

    init(_ summary: QueueSummary) {
        name = summary.name
        paused = summary.paused
        counts = Dictionary(uniqueKeysWithValues: summary.counts.map { ($0.key.rawValue, $0.value) })
    }
}

/// A job as admins see it, its payload and error history included.
struct JobDTO: Encodable, Sendable, ResponseEncodable {
    struct AttemptError: Encodable, Sendable { var attempt: Int; var at: Timestamp; var error: String }
    var id: Int64
    var kind: String
    var queue: String
    var state: String
    var payload: String
    var priority: Int
    var attempt: Int
    var maxAttempts: Int
    var runAt: Timestamp
    var createdAt: Timestamp
    var finishedAt: Timestamp?
    var uniqueKey: String?
    var lastError: String?
    var errors: [AttemptError]

    init(_ job: JobRecord) {
        id = job.id
        kind = job.kind
        queue = job.queue
        state = job.state.rawValue
        payload = job.payload
        priority = job.priority
        attempt = job.attempt
        maxAttempts = job.maxAttempts
        runAt = job.runAt
        createdAt = job.createdAt
        finishedAt = job.finishedAt
        uniqueKey = job.uniqueKey
        lastError = job.lastError
        errors = job.errors.map { AttemptError(attempt: $0.attempt, at: $0.at, error: $0.error) }
    }
}
