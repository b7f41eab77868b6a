import Foundation

/// An `agora serve` child process that a benchmark starts, kills and restarts on its data
/// directory. Its output (the server's log) goes to `logFile`, appended across restarts.
final class BenchServer: @unchecked Sendable {
    // Touched only by the benchmark's own task.
    let dataDirectory: URL
    let logFile: URL
    let environment: [String: String]
    private(set) var process: Process?
    private(set) var port = 0

    /// - Parameter logName: the log's file name in `dataDirectory` (several servers sharing one
    ///   directory need one each).
    init(dataDirectory: URL, environment: [String: String], logName: String = "server.log") {
        self.dataDirectory = dataDirectory
        self.logFile = dataDirectory.appendingPathComponent(logName)
        self.environment = environment
    }

    var baseURL: String { "http://127.0.0.1:\(port)" }

    /// Starts the server on a free port and waits until it listens.
    func start() async throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        process.arguments = ["serve", "--data-dir", dataDirectory.path, "--port", "0"]
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        if !FileManager.default.fileExists(atPath: logFile.path) {
            FileManager.default.createFile(atPath: logFile.path, contents: nil)
        }
        let log = try FileHandle(forWritingTo: logFile)
        try log.seekToEnd()
        let start = try log.offset()
        process.standardOutput = log
        process.standardError = log
        try process.run()
        self.process = process
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            let text = (try? String(contentsOf: logFile, encoding: .utf8)) ?? ""
            let fresh = text.utf8.count > Int(start) ? String(text.dropFirst(Int(start))) : ""
            if let match = fresh.firstMatch(of: /Agora listening on http:\/\/127\.0\.0\.1:(\d+)/), let port = Int(match.1) {
                self.port = port
                return
            }
            guard process.isRunning else { throw BenchFailure("the server exited at start; see \(logFile.path)") }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw BenchFailure("the server did not start within 60 s; see \(logFile.path)")
    }

    /// Kills the server with SIGKILL: no flush, no graceful stop.
    func kill() {
        guard let process, process.isRunning else { return }
        Foundation.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// Stops the server with SIGTERM and waits for it to exit.
    func stop() {
        guard let process, process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
    }
}

struct BenchFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
