import App
import ArgumentParser
import Logging
import ServiceLifecycle

/// `agora worker`: run queue workers without the HTTP API, so the two scale apart.
struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker", abstract: "Run queue workers (no HTTP API) until SIGTERM or SIGINT.")

    @OptionGroup var common: CommonOptions

    @Option(help: "Comma-separated queues to work (AGORA_WORKER_QUEUES; default: every queue the app uses).")
    var queues: String?

    @Option(help: "Jobs run at once per queue (AGORA_WORKER_CONCURRENCY; default 10).")
    var concurrency: Int?

    func validate() throws {
        if let concurrency, concurrency < 1 { throw ValidationError("--concurrency must be at least 1") }
    }

    func run() async throws {
        let settings = try await common.settings()
        let logger = common.logger(settings)
        let services = try await AgoraServices.open(settings: settings, logger: logger)
        let names = queues.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty } }
        let worker = services.makeWorker(queues: names, concurrency: concurrency, logger: logger)
        print("Agora worker running queues \(worker.configuration.queues.keys.sorted().joined(separator: ", "))")
        let group = ServiceGroup(configuration: .init(
            services: [.init(service: worker)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
        try await services.close()
    }
}
