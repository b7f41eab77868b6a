import Queue

extension AgoraServices {
    /// Registers the app's jobs and topic subscriptions with their handlers.
    func registerJobs(in registry: JobRegistry) throws {
        QueueProbeJob.register(in: registry, database: database)
        StrengthenPasswordJob.register(in: registry, database: database, users: accounts.users, hasher: hasher)
        SendMailJob.register(in: registry, transport: mailTransport, retry: .default)
        AccountCodeRequestJob.register(in: registry, service: codes)
        notifications.register(in: registry)
        try exports.register(in: registry)
        ProcessUploadJob.register(in: registry, uploads: uploads)
    }
}
