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
            let settings = try await common.settings()
            let services = try await AgoraServices.open(settings: settings, logger: common.logger(settings))
            let promoted = try await services.accounts.promote(email: email)
            try await services.close()
            guard promoted else {
                print("No account has the email \(email).")
                throw ExitCode.failure
            }
            print("\(email) is now an admin.")
        }
    }

    /// `agora users verify EMAIL`: mark an account's address verified without a code.
    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Mark the email of this account verified.")

        @OptionGroup var common: CommonOptions
        @Argument(help: "The account's email.") var email: String

        func run() async throws {
            let settings = try await common.settings()
            let services = try await AgoraServices.open(settings: settings, logger: common.logger(settings))
            let verified = try await services.codes.markVerified(email: email)
            try await services.close()
            guard verified else {
                print("No account has the email \(email).")
                throw ExitCode.failure
            }
            print("\(email) is now verified.")
        }
    }
}
