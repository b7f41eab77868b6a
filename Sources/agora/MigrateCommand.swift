import App
import ArgumentParser

/// `agora migrate`: apply pending migrations and exit.
struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "migrate", abstract: "Apply pending database migrations.")

    @OptionGroup var common: CommonOptions

    func run() async throws {
        let settings = try await common.settings()
        // Opening applies the migrations.
        let services = try await AgoraServices.open(settings: settings, logger: common.logger(settings))
        try await services.close()
        print(settings.databaseURL == nil ? "Database in \(settings.dataDirectory) is up to date." : "PostgreSQL database is up to date.")
    }
}
