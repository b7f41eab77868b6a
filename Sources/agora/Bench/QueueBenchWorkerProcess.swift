import Foundation

/// The child process `agora bench queue --database-url` starts for its worker
/// (`agora bench queue-worker`, the same executable), and the lines it writes.
final class QueueBenchWorkerProcess: @unchecked Sendable {
    // `process` is touched only by the benchmark's own task; the lines come from a reading thread.
    let process: Process
    private let lines: AsyncStream<QueueBenchWorkerLine>

    /// Starts the worker on `databaseURL`; its standard error goes to this process's.
    init(databaseURL: String, jobs: Int, concurrency: Int) throws {
        process = Process()
        process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        process.arguments = ["bench", "queue-worker", "--database-url", databaseURL,
                             "--jobs", "\(jobs)", "--concurrency", "\(concurrency)"]
        let pipe = Pipe()
        process.standardOutput = pipe
        let (stream, continuation) = AsyncStream<QueueBenchWorkerLine>.makeStream()
        lines = stream
        try process.run()
        // A thread of its own reads the pipe, so no task blocks; the lines carry their own
        // timestamps, so when this reader sees them does not enter any measurement.
        let reading = pipe.fileHandleForReading
        Thread.detachNewThread {
            var pending = Data()
            while true {
                let chunk = reading.availableData
                if chunk.isEmpty { break }
                pending.append(chunk)
                while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                    let line = String(decoding: pending[pending.startIndex..<newline], as: UTF8.self)
                    pending.removeSubrange(pending.startIndex...newline)
                    if let parsed = QueueBenchWorkerLine(Substring(line)) { continuation.yield(parsed) }
                }
            }
            continuation.finish()
        }
    }

    /// The worker's next line; throws when it exited without one, or after `timeout`.
    func next(timeout: Duration = .seconds(120)) async throws -> QueueBenchWorkerLine {
        let lines = self.lines
        let line = try await withThrowingTaskGroup(of: QueueBenchWorkerLine?.self) { group in
            // One reader at a time: each call iterates the one stream where the last left off.
            group.addTask {
                var iterator = lines.makeAsyncIterator()
                return await iterator.next()
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                throw BenchFailure("the worker process wrote nothing for \(timeout)")
            }
            defer { group.cancelAll() }
            return try await group.next() ?? nil
        }
        guard let line else { throw BenchFailure("the worker process exited (status \(process.terminationStatus))") }
        return line
    }

    /// Asks the worker to stop (SIGTERM: its graceful shutdown) and returns its summary line.
    func stop() async throws -> QueueBenchWorkerLine {
        process.terminate()
        while true {
            let line = try await next(timeout: .seconds(60))
            if case .summary = line {
                process.waitUntilExit()
                return line
            }
        }
    }

    /// Kills the worker if it still runs (after a failure of the benchmark).
    func kill() {
        guard process.isRunning else { return }
        Foundation.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}
