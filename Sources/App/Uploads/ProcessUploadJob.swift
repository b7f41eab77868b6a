import Queue

/// Inspects one upload after it is stored: hashes it, detects its type and dimensions, and marks
/// it ready or rejected. Enqueued in the transaction that stores the upload, so every stored
/// upload is inspected exactly once in effect, however often the job runs.
public struct ProcessUploadJob: Job, Equatable {
    public static let name = "upload.process"
    /// The queue inspections run on, apart from the app's other jobs.
    public static let queue = "uploads"
    public let uploadId: Int64

    public init(uploadId: Int64) {
        self.uploadId = uploadId
    }

    static func register(in registry: JobRegistry, uploads: UploadService) {
        registry.register(ProcessUploadJob.self, queue: queue, maxAttempts: 10) { job, _ in
            try await uploads.process(job.uploadId)
        }
    }
}
