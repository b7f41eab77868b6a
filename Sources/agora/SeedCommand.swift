import App
import ArgumentParser

/// `agora seed`: deterministic demo data for trying Agora and benchmarking it.
struct SeedCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "seed",
        abstract: "Fill the database with deterministic demo data.",
        discussion: "Users are user1@example.com … userN@example.com, verified, all with the password '\(DemoSeeder.password)'.")

    @OptionGroup var common: CommonOptions
    @Option(help: "Number of users.") var users = 100
    @Option(help: "Number of posts.") var posts = 1000
    @Option(help: "Number of comments.") var comments = 3000
    @Flag(help: "Seed even though the database already has users.") var force = false

    func run() async throws {
        let settings = try await common.settings()
        let services = try await AgoraServices.open(settings: settings, logger: common.logger(settings))
        do {
            let result = try await DemoSeeder(services: services).seed(users: users, posts: posts, comments: comments, force: force)
            print("Seeded \(result.users) users, \(result.posts) posts, \(result.comments) comments. Password: \(DemoSeeder.password)")
        } catch let error as DemoSeeder.DatabaseNotEmpty {
            try await services.close()
            print(error.description)
            throw ExitCode.failure
        }
        try await services.close()
    }
}
