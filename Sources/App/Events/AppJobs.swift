import Queue

extension AgoraServices {
    /// Registers the app's jobs and topic subscriptions with their handlers.
    ///
    /// The queue diagnostics are always registered; the mail, notification and counter jobs of
    /// the next issues register here too.
    func registerJobs(in registry: JobRegistry) {
        QueueProbeJob.register(in: registry, database: database)
        ProcessUploadJob.register(in: registry, uploads: uploads)
    }
}
