import App
import ArgumentParser
import Configuration
import Logging

/// Options every command shares; each overrides its `AGORA_*` variable and `.env`.
struct CommonOptions: ParsableArguments {
    @Option(name: .customLong("data-dir"), help: "Directory of the embedded database, uploads and exports (AGORA_DATA_DIR; default ./agora-data).")
    var dataDir: String?

    @Option(name: .customLong("database-url"),
            help: "postgres://user:password@host:port/database puts the data, the queue and the chat on PostgreSQL (AGORA_DATABASE_URL; default: SQLite in the data directory).")
    var databaseURL: String?

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical (AGORA_LOG_LEVEL).")
    var logLevel: String?

    /// Reads the settings: flags first, then the environment, then `.env`, then the defaults.
    func settings(extra: [String: ConfigValue] = [:]) async throws -> AppSettings {
        var values: [AbsoluteConfigKey: ConfigValue] = [:]
        if let dataDir { values["agora.data.dir"] = .init(.string(dataDir), isSecret: false) }
        if let databaseURL { values["agora.database.url"] = .init(.string(databaseURL), isSecret: true) }
        if let logLevel { values["agora.log.level"] = .init(.string(logLevel), isSecret: false) }
        for (key, value) in extra { values[AbsoluteConfigKey(key.split(separator: ".").map(String.init))] = value }
        let config = ConfigReader(providers: [
            InMemoryProvider(name: "flags", values: values),
            EnvironmentVariablesProvider(),
            try await EnvironmentVariablesProvider(environmentFilePath: ".env", allowMissing: true),
        ])
        return AppSettings(config: config.scoped(to: "agora"))
    }

    func logger(_ settings: AppSettings) -> Logger {
        var logger = Logger(label: "agora")
        logger.logLevel = settings.logLevel
        return logger
    }
}
