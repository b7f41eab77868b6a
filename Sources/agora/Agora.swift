import ArgumentParser

/// The `agora` command: the server and the tools around it.
@main
struct Agora: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agora",
        abstract: "Agora: accounts, a board, chat and a durable queue in one binary.",
        subcommands: [ServeCommand.self, WorkerCommand.self, JobsCommand.self, MigrateCommand.self, UsersCommand.self,
                      SeedCommand.self, BenchCommand.self]
    )
}
