import App
import ArgumentParser
import Queue
import Storage

/// `agora jobs …`: inspect and control the queue.
struct JobsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jobs", abstract: "Inspect and control the job queue.",
        subcommands: [Stats.self, List.self, Retry.self, Discard.self, Pause.self, Resume.self, Probe.self])

    /// Opens the services, runs `body` on the queue, closes.
    static func withQueue<T>(_ common: CommonOptions, _ body: (JobQueue) async throws -> T) async throws -> T {
        let settings = try await common.settings()
        let services = try await AgoraServices.open(settings: settings, logger: common.logger(settings))
        do {
            let result = try await body(services.queue)
            try await services.close()
            return result
        } catch {
            try? await services.close()
            throw error
        }
    }

    struct Stats: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Jobs per queue and state, and paused queues.")
        @OptionGroup var common: CommonOptions

        func run() async throws {
            let (counts, paused) = try await JobsCommand.withQueue(common) { queue in
                (try await queue.driver.counts(), try await queue.driver.pausedQueues())
            }
            let queues = Set(counts.map(\.queue)).union(paused).sorted()
            if queues.isEmpty { return print("No jobs.") }
            let states = JobState.allCases
            print((["queue"] + states.map(\.rawValue)).map { $0.padding(toLength: 12, withPad: " ", startingAt: 0) }.joined())
            for name in queues {
                let cells = states.map { state in String(counts.first { $0.queue == name && $0.state == state }?.count ?? 0) }
                let label = paused.contains(name) ? "\(name) (paused)" : name
                print(([label] + cells).map { $0.padding(toLength: max(12, $0.count + 1), withPad: " ", startingAt: 0) }.joined())
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List jobs in a state, newest first.")
        @OptionGroup var common: CommonOptions
        @Option(help: "pending, running, completed, dead or cancelled.") var state: String = "dead"
        @Option(help: "Only this queue.") var queue: String?
        @Option(help: "At most this many.") var limit = 50

        func run() async throws {
            guard let state = JobState(rawValue: state) else {
                throw ValidationError("--state must be one of \(JobState.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            let jobs = try await JobsCommand.withQueue(common) { try await $0.driver.jobs(in: state, queue: queue, before: nil, limit: limit) }
            if jobs.isEmpty { return print("No \(state.rawValue) jobs.") }
            for job in jobs {
                print("\(job.id)  \(job.queue)  \(job.kind)  attempt \(job.attempt)/\(job.maxAttempts)  run at \(job.runAt.iso8601)")
                if let error = job.lastError { print("    last error: \(error)") }
            }
        }
    }

    struct Retry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Put a dead or cancelled job back to pending.")
        @OptionGroup var common: CommonOptions
        @Argument(help: "The job's id.") var id: Int64

        func run() async throws {
            guard try await JobsCommand.withQueue(common, { try await $0.driver.retry(id) }) else {
                print("Job \(id) is not dead or cancelled.")
                throw ExitCode.failure
            }
            print("Job \(id) is pending again.")
        }
    }

    struct Discard: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a dead or cancelled job.")
        @OptionGroup var common: CommonOptions
        @Argument(help: "The job's id.") var id: Int64

        func run() async throws {
            guard try await JobsCommand.withQueue(common, { try await $0.driver.discard(id) }) else {
                print("Job \(id) is not dead or cancelled.")
                throw ExitCode.failure
            }
            print("Job \(id) is discarded.")
        }
    }

    struct Pause: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stop workers from claiming jobs of a queue.")
        @OptionGroup var common: CommonOptions
        @Argument(help: "The queue.") var queue: String

        func run() async throws {
            try await JobsCommand.withQueue(common) { try await $0.driver.pause(queue: queue) }
            print("Queue \(queue) is paused.")
        }
    }

    struct Resume: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Let workers claim jobs of a paused queue again.")
        @OptionGroup var common: CommonOptions
        @Argument(help: "The queue.") var queue: String

        func run() async throws {
            try await JobsCommand.withQueue(common) { try await $0.driver.resume(queue: queue) }
            print("Queue \(queue) is resumed.")
        }
    }

    struct Probe: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Enqueue diagnostic jobs that record each run and apply their effect once (see queue_probe_* tables).")
        @OptionGroup var common: CommonOptions
        @Option(help: "How many.") var count = 1
        @Option(help: "Milliseconds each spends before its effect.") var workMillis = 0
        @Option(help: "Milliseconds between each one's effect and its acknowledgement, on the first run.") var pauseAfterEffectMillis = 0

        func validate() throws {
            guard count > 0, workMillis >= 0, pauseAfterEffectMillis >= 0 else { throw ValidationError("counts and times must not be negative") }
        }

        func run() async throws {
            let job = QueueProbeJob(workMillis: workMillis, pauseAfterEffectMillis: pauseAfterEffectMillis)
            try await JobsCommand.withQueue(common) { queue in
                for start in stride(from: 0, to: count, by: 1000) {
                    try await queue.enqueue(batch: Array(repeating: job, count: min(1000, count - start)))
                }
            }
            print("Enqueued \(count) probe job\(count == 1 ? "" : "s").")
        }
    }
}
