import App
import ArgumentParser

/// `agora users …`: account administration.
struct UsersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "users", abstract: "Manage accounts.", subcommands: [Promote.self, Verify.self])

    /// `agora users promote EMAIL`: make an account an admin.
    struct Promote: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Make the account with this email an admin.")

        @OptionGroup var common: CommonOptions
        @Argument(help: "The account's email.") var email: String

        func run() async throws {
            try await UsersCommand.change(email, common, done: "is now an admin") { try await $0.accounts.promote(email: email) }
        }
    }

    /// `agora users verify EMAIL`: mark an account's address verified without a code.
    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Mark the email of this account verified.")

        @OptionGroup var common: CommonOptions
        @Argument(help: "The account's email.") var email: String

        func run() async throws {
            try await UsersCommand.change(email, common, done: "is now verified") { try await $0.codes.markVerified(email: email) }
        }
    }

    /// Opens the services, applies `change` to the account with `email` (false: no such account,
    /// exit 1), closes them and says what was done.
    static func change(_ email: String, _ common: CommonOptions, done: String,
                       _ change: (AgoraServices) async throws -> Bool) async throws {
        let settings = try await common.settings()
        let services = try await AgoraServices.open(settings: settings, logger: common.logger(settings))
        let changed: Bool
        do {
            changed = try await change(services)
        } catch {
            try? await services.close()
            throw error
        }
        try await services.close()
        guard changed else {
            print("No account has the email \(email).")
            throw ExitCode.failure
        }
        print("\(email) \(done).")
    }
}
