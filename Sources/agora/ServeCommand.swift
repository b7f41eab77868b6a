import App
import ArgumentParser
import Configuration
import Hummingbird

/// `agora serve`: migrate, then serve the API until SIGTERM or SIGINT (in-flight requests drain).
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "serve", abstract: "Run the Agora server.")

    @OptionGroup var common: CommonOptions

    @Option(help: "Address to listen on (AGORA_HOST; default 127.0.0.1).")
    var host: String?

    @Option(help: "Port to listen on (AGORA_PORT; default 8080).")
    var port: Int?

    @Flag(name: .customLong("no-workers"), help: "Run no queue workers in this process (AGORA_WORKERS=false); run `agora worker` instead.")
    var noWorkers = false

    func run() async throws {
        var extra: [String: ConfigValue] = [:]
        if let host { extra["agora.host"] = .init(.string(host), isSecret: false) }
        if let port { extra["agora.port"] = .init(.int(port), isSecret: false) }
        if noWorkers { extra["agora.workers"] = .init(.bool(false), isSecret: false) }
        let settings = try await common.settings(extra: extra)
        let app = try await buildApplication(settings: settings, logger: common.logger(settings))
        try await app.runService()
    }
}
