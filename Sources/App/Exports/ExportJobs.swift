import Queue

/// Builds one data export (see `ExportService.build`).
public struct BuildExportJob: Job {
    public static let name = "export.build"
    public var exportId: Int64

    public init(exportId: Int64) {
        self.exportId = exportId
    }
}

/// Deletes exports older than seven days, with their files; scheduled every hour.
public struct PruneExportsJob: Job {
    public static let name = "export.prune"

    public init() {}
}

extension ExportService {
    func register(in registry: JobRegistry) throws {
        registry.register(BuildExportJob.self, queue: "exports", maxAttempts: 3) { job, context in
            do {
                try await build(job.exportId)
            } catch where context.attempt >= context.maxAttempts {
                try await fail(job.exportId, error: "The export could not be built.")
                throw error
            }
        }
        registry.register(PruneExportsJob.self, queue: "exports", maxAttempts: 3) { _, _ in
            try await prune()
        }
        try registry.schedule("prune-exports", cron: "17 * * * *", job: PruneExportsJob())
    }
}
