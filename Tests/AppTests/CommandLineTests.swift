import Foundation
import Testing
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Runs the real `agora` executable that `swift test` builds beside the tests.
struct AgoraProcess {
    static var executable: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("agora")
    }

    /// Runs `agora arguments…` to completion and returns its exit status and output.
    /// The blocking reads and waits run on a dispatch thread, never on Swift's cooperative pool.
    static func run(_ arguments: [String], dataDir: String?, in directory: URL? = nil,
                    environment: [String: String] = [:]) async throws -> (status: Int32, output: String) {
        try await offCooperativePool { try runBlocking(arguments, dataDir: dataDir, in: directory, environment: environment) }
    }

    private static func runBlocking(_ arguments: [String], dataDir: String?, in directory: URL?,
                                    environment: [String: String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments + (dataDir.map { ["--data-dir", $0] } ?? [])
        process.currentDirectoryURL = directory
        process.environment = ProcessInfo.processInfo.environment
            .filter { !$0.key.hasPrefix("AGORA_") }
            .merging(["AGORA_BCRYPT_COST": "4"].merging(environment) { $1 }) { $1 }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}

@Suite("The agora command", .serialized)
struct CommandLineTests {
    let dataDir = FileManager.default.temporaryDirectory.appendingPathComponent("agora-cli-\(UUID().uuidString)").path

    @Test("the executable exists beside the tests")
    func executableExists() {
        #expect(FileManager.default.isExecutableFile(atPath: AgoraProcess.executable.path))
    }

    @Test("serve prints its URL, answers /healthz, and exits 0 on SIGTERM")
    func serveAndStop() async throws {
        defer { try? FileManager.default.removeItem(atPath: dataDir) }
        let process = Process()
        process.executableURL = AgoraProcess.executable
        process.arguments = ["serve", "--port", "0", "--data-dir", dataDir]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { process.terminate() } }

        let output = try await offCooperativePool {
            var output = ""
            while !output.contains("listening on http://") {
                let chunk = pipe.fileHandleForReading.availableData
                if chunk.isEmpty { break }
                output += String(decoding: chunk, as: UTF8.self)
            }
            return output
        }
        let url = try #require(output.split(separator: "\n").first { $0.contains("listening on http://") }
            .flatMap { $0.split(separator: " ").last }.map(String.init))
        let (body, response) = try await URLSession.shared.data(from: URL(string: url + "/healthz")!)
        #expect((response as? HTTPURLResponse)?.statusCode == 200)
        #expect(String(decoding: body, as: UTF8.self).contains("ok"))
        #expect(FileManager.default.fileExists(atPath: dataDir + "/agora.sqlite"))

        kill(process.processIdentifier, SIGTERM)
        let stopDeadline = Date().addingTimeInterval(20)
        while process.isRunning, Date() < stopDeadline { try await Task.sleep(for: .milliseconds(50)) }
        #expect(!process.isRunning)
        #expect(process.terminationStatus == 0)
    }

    @Test("migrate, seed (refusing a populated database without --force) and users promote")
    func tools() async throws {
        defer { try? FileManager.default.removeItem(atPath: dataDir) }
        #expect(try await AgoraProcess.run(["migrate"], dataDir: dataDir).status == 0)
        let seeded = try await AgoraProcess.run(["seed", "--users", "3", "--posts", "5", "--comments", "7"], dataDir: dataDir)
        #expect(seeded.status == 0, "\(seeded.output)")
        #expect(seeded.output.contains("Seeded 3 users, 5 posts, 7 comments"))
        let refused = try await AgoraProcess.run(["seed", "--users", "3"], dataDir: dataDir)
        #expect(refused.status != 0)
        #expect(refused.output.contains("--force"))
        let forced = try await AgoraProcess.run(["seed", "--users", "2", "--posts", "0", "--comments", "0", "--force"], dataDir: dataDir)
        #expect(forced.status == 0, "\(forced.output)")
        let promoted = try await AgoraProcess.run(["users", "promote", "user1@example.com"], dataDir: dataDir)
        #expect(promoted.status == 0, "\(promoted.output)")
        #expect(promoted.output.contains("is now an admin"))
        #expect(try await AgoraProcess.run(["users", "promote", "nobody@example.com"], dataDir: dataDir).status != 0)
    }

    @Test("settings come from flags, then AGORA_* variables, then .env")
    func settingsPrecedence() async throws {
        let directory = URL(fileURLWithPath: dataDir)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try "AGORA_DATA_DIR=\(dataDir)/from-dotenv\n".write(to: directory.appendingPathComponent(".env"), atomically: true, encoding: .utf8)
        let fromFile = FileManager.default.fileExists(atPath:)
        #expect(try await AgoraProcess.run(["migrate"], dataDir: nil, in: directory).status == 0)
        #expect(fromFile("\(dataDir)/from-dotenv/agora.sqlite"))
        #expect(try await AgoraProcess.run(["migrate"], dataDir: nil, in: directory,
                                           environment: ["AGORA_DATA_DIR": "\(dataDir)/from-env"]).status == 0)
        #expect(fromFile("\(dataDir)/from-env/agora.sqlite"))
        #expect(try await AgoraProcess.run(["migrate"], dataDir: "\(dataDir)/from-flag", in: directory,
                                           environment: ["AGORA_DATA_DIR": "\(dataDir)/from-env-2"]).status == 0)
        #expect(fromFile("\(dataDir)/from-flag/agora.sqlite"))
        #expect(!fromFile("\(dataDir)/from-env-2/agora.sqlite"))
    }
}

/// Runs blocking work on a dispatch thread so it cannot starve the cooperative thread pool.
func offCooperativePool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async { continuation.resume(with: Result { try work() }) }
    }
}
