import ArgumentParser

/// `agora bench …`: benchmarks of Agora's own parts, on the release build (docs/BENCHMARKS.md).
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Benchmark parts of Agora.",
        subcommands: [QueueBenchCommand.self, SignupBenchCommand.self, ChatBenchCommand.self, QueueBenchWorkerCommand.self])
}
