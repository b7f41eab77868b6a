import Foundation
import ProcessTestSupport
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
        let process = try ChildProcess(
            executable.path, arguments + (dataDir.map { ["--data-dir", $0] } ?? []),
            environment: ProcessInfo.processInfo.environment
                .filter { !$0.key.hasPrefix("AGORA_") }
                .merging(["AGORA_BCRYPT_COST": "4"].merging(environment) { $1 }) { $1 },
            directory: directory?.path, output: .pipe)
        let data = process.output?.readDataToEndOfFile() ?? Data()
        return (process.wait(), String(decoding: data, as: UTF8.self))
    }
}

@Suite("The agora command", .serialized)
struct CommandLineTests {
    let dataDir = FileManager.default.temporaryDirectory.appendingPathComponent("agora-cli-\(UUID().uuidString)").path

    @Test("the executable exists beside the tests")
    func executableExists() {
        #expect(FileManager.default.isExecutableFile(atPath: AgoraProcess.executable.path))
    }

    /// Starts `agora serve --port 0` and returns the process and its base URL.
    func startServer() async throws -> (ChildProcess, URL) {
        let process = try ChildProcess(AgoraProcess.executable.path, ["serve", "--port", "0", "--data-dir", dataDir],
                                       environment: ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("AGORA_") },
                                       output: .pipe, errors: .discarded)
        let reader = try #require(process.output)
        let output = try await offCooperativePool {
            var output = ""
            while !output.contains("listening on http://") {
                let chunk = reader.availableData
                if chunk.isEmpty { break }
                output += String(decoding: chunk, as: UTF8.self)
            }
            return output
        }
        let url = try #require(output.split(separator: "\n").first { $0.contains("listening on http://") }
            .flatMap { $0.split(separator: " ").last }.flatMap { URL(string: String($0)) })
        return (process, url)
    }

    func waitForExit(_ process: ChildProcess) async throws -> Int32? {
        let deadline = Date().addingTimeInterval(20)
        while process.isRunning, Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
        return process.status
    }

    @Test("serve prints its URL, answers /healthz, and exits 0 on SIGTERM")
    func serveAndStop() async throws {
        defer { try? FileManager.default.removeItem(atPath: dataDir) }
        let (process, url) = try await startServer()
        defer { process.signal(SIGTERM) }
        let (body, response) = try await URLSession.shared.data(from: url.appendingPathComponent("healthz"))
        #expect((response as? HTTPURLResponse)?.statusCode == 200)
        #expect(String(decoding: body, as: UTF8.self).contains("ok"))
        #expect(FileManager.default.fileExists(atPath: dataDir + "/agora.sqlite"))
        process.signal(SIGTERM)
        #expect(try await waitForExit(process) == 0)
    }

    @Test("SIGTERM lets a request in flight finish before the process exits 0")
    func drainsInFlightRequests() async throws {
        defer { try? FileManager.default.removeItem(atPath: dataDir) }
        let (process, url) = try await startServer()
        defer { process.signal(SIGTERM) }
        let body = #"{"email":"drain@example.com","password":"long enough","nickname":"drain"}"#
        let head = "POST /api/auth/signup HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            + "Content-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n"
        let socket = try RawSocket(port: UInt16(url.port ?? 0))
        defer { socket.close() }
        // Half the request is on the wire when the signal arrives.
        try socket.send(head + String(body.prefix(10)))
        try await Task.sleep(for: .milliseconds(200))
        process.signal(SIGTERM)
        try await Task.sleep(for: .milliseconds(300))
        #expect(process.isRunning, "the server waits for the request in flight")
        try socket.send(String(body.dropFirst(10)))
        let reply = try await offCooperativePool { socket.receiveAll() }
        #expect(reply.hasPrefix("HTTP/1.1 201"), "\(reply)")
        #expect(try await waitForExit(process) == 0)
    }

    @Test("migrate, seed (refusing a populated database without --force), users promote and users verify",
          arguments: TestEngine.allCases)
    func tools(engine: TestEngine) async throws {
        try await withTestDatabase(on: engine, testSettings { $0.dataDirectory = dataDir }) { settings in
            let database = settings.databaseURL.map { ["AGORA_DATABASE_URL": $0] } ?? [:]
            func agora(_ arguments: String...) async throws -> (status: Int32, output: String) {
                try await AgoraProcess.run(arguments, dataDir: dataDir, environment: database)
            }
            #expect(try await agora("migrate").status == 0)
            let seeded = try await agora("seed", "--users", "3", "--posts", "5", "--comments", "7")
            #expect(seeded.status == 0, "\(seeded.output)")
            #expect(seeded.output.contains("Seeded 3 users, 5 posts, 7 comments"))
            let refused = try await agora("seed", "--users", "3")
            #expect(refused.status != 0)
            #expect(refused.output.contains("--force"))
            let forced = try await agora("seed", "--users", "2", "--posts", "0", "--comments", "0", "--force")
            #expect(forced.status == 0, "\(forced.output)")
            let promoted = try await agora("users", "promote", "user1@example.com")
            #expect(promoted.status == 0, "\(promoted.output)")
            #expect(promoted.output.contains("is now an admin"))
            #expect(try await agora("users", "promote", "nobody@example.com").status != 0)
            let verified = try await agora("users", "verify", "user1@example.com")
            #expect(verified.status == 0 && verified.output.contains("is now verified"), "\(verified.output)")
            #expect(try await agora("users", "verify", "nobody@example.com").status != 0)
            // Everything went to the database asked for: on PostgreSQL, no SQLite file appears.
            #expect(FileManager.default.fileExists(atPath: dataDir + "/agora.sqlite") == (engine == .sqlite))
        }
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

/// A blocking TCP client on loopback, for sending a request in pieces.
final class RawSocket: @unchecked Sendable {
    let descriptor: Int32

    /// Connects to `port`; with `receiveBuffer`, the socket's receive buffer is set that small first.
    init(port: UInt16, receiveBuffer: Int32? = nil) throws {
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        if var size = receiveBuffer {
            setsockopt(descriptor, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else { throw POSIXError(.ECONNREFUSED) }
    }

    func send(_ text: String) throws {
        let bytes = Array(text.utf8)
        guard write(descriptor, bytes, bytes.count) == bytes.count else { throw POSIXError(.EPIPE) }
    }

    /// Sends one masked WebSocket text frame (under 126 bytes), as a client must.
    func sendMaskedText(_ text: String) throws {
        let payload = Array(text.utf8)
        precondition(payload.count < 126)
        let mask: [UInt8] = [0x12, 0x34, 0x56, 0x78]
        let frame = [0x81, 0x80 | UInt8(payload.count)] + mask + payload.enumerated().map { $0.element ^ mask[$0.offset % 4] }
        guard write(descriptor, frame, frame.count) == frame.count else { throw POSIXError(.EPIPE) }
    }

    /// Everything the peer sends until it closes the connection, or until what came has `end`.
    func receiveAll(until end: String? = nil) -> String {
        var data = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = read(descriptor, &buffer, buffer.count)
            if count <= 0 { break }
            data += buffer[0..<count]
            if let end, String(decoding: data, as: UTF8.self).contains(end) { break }
        }
        return String(decoding: data, as: UTF8.self)
    }

    func close() {
        _ = Glibc.close(descriptor)
    }
}
