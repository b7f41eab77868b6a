import Foundation
import ProcessTestSupport
import Synchronization

/// `scripts/smtp-test-server.py` (aiosmtpd) running as a subprocess on 127.0.0.1: a real SMTP
/// server for the integration tests, which records every message it accepts.
///
/// Use `SMTPTestServer.with(_:_:)`: it starts the server, waits for its `LISTENING <port>`
/// line, runs the test, and kills the server by PID afterwards, whether the test passed or threw.
public final class SMTPTestServer: Sendable {
    /// How the server behaves; each maps to a flag of the script.
    public struct Options: Sendable {
        public var failOnce: Int?
        public var reject: Int?
        /// `rcpt` or `data`: where `failOnce`/`reject` answer.
        public var failAt: String?
        public var auth: (user: String, password: String)?
        public var authMechanisms: [String]?
        public var startTLS = false
        public var requireStartTLS = false
        public var implicitTLS = false
        public var noEHLO = false
        public var hangUp = false
        public var silent = false

        public static var plain: Options { Options() }

        public init(failOnce: Int? = nil, reject: Int? = nil, failAt: String? = nil, auth: (user: String, password: String)? = nil,
                    authMechanisms: [String]? = nil, startTLS: Bool = false, requireStartTLS: Bool = false, implicitTLS: Bool = false,
                    noEHLO: Bool = false, hangUp: Bool = false, silent: Bool = false) {
            self.failOnce = failOnce
            self.reject = reject
            self.failAt = failAt
            self.auth = auth
            self.authMechanisms = authMechanisms
            self.startTLS = startTLS
            self.requireStartTLS = requireStartTLS
            self.implicitTLS = implicitTLS
            self.noEHLO = noEHLO
            self.hangUp = hangUp
            self.silent = silent
        }
    }

    /// The port on 127.0.0.1.
    public let port: Int
    /// The certificate the server presents, when it speaks TLS.
    public let certificate: TestCertificate?
    private let directory: URL
    private let process: ChildProcess

    private init(port: Int, certificate: TestCertificate?, directory: URL, process: ChildProcess) {
        self.port = port
        self.certificate = certificate
        self.directory = directory
        self.process = process
    }

    /// Starts a server with `options`, runs `body` with it, and always stops it.
    public static func with<T>(_ options: Options = .plain, _ body: (SMTPTestServer) async throws -> T) async throws -> T {
        let server = try await start(options)
        do {
            let result = try await body(server)
            await server.stop()
            return result
        } catch {
            await server.stop()
            throw error
        }
    }

    /// The messages the server accepted, in order.
    public func receivedMessages() throws -> [ReceivedMail] {
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.appendingPathComponent("messages").path)
            .filter { $0.hasSuffix(".json") && !$0.hasPrefix(".") }
            .sorted()
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try files.map { name in
            let data = try Data(contentsOf: directory.appendingPathComponent("messages").appendingPathComponent(name))
            return try decoder.decode(ReceivedMail.self, from: data)
        }
    }

    /// Kills the server by PID and waits until it is gone.
    public func stop() async {
        process.signal(SIGKILL)
        _ = try? await BlockingWork.run { [process] in process.wait() }
        try? FileManager.default.removeItem(at: directory)
    }

    private static func start(_ options: Options) async throws -> SMTPTestServer {
        try await SMTPTestEnvironment.requireServerScript()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("agora-smtp-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var arguments = [SMTPTestEnvironment.scriptPath, directory.appendingPathComponent("messages").path]
        var certificate: TestCertificate?
        if options.startTLS || options.implicitTLS {
            certificate = try await TestCertificate.shared
        }
        if let code = options.failOnce { arguments += ["--fail-once", String(code)] }
        if let code = options.reject { arguments += ["--reject", String(code)] }
        if let stage = options.failAt { arguments += ["--fail-at", stage] }
        if let auth = options.auth { arguments += ["--auth", "\(auth.user):\(auth.password)"] }
        if let mechanisms = options.authMechanisms { arguments += ["--auth-mechanisms", mechanisms.joined(separator: ",")] }
        if let certificate, options.startTLS { arguments += ["--starttls", certificate.certificatePath, certificate.keyPath] }
        if options.requireStartTLS { arguments += ["--require-starttls"] }
        if let certificate, options.implicitTLS { arguments += ["--implicit-tls", certificate.certificatePath, certificate.keyPath] }
        if options.noEHLO { arguments += ["--no-ehlo"] }
        if options.hangUp { arguments += ["--hang-up"] }
        if options.silent { arguments += ["--silent"] }

        let errorLog = directory.appendingPathComponent("server.log")
        let process = try ChildProcess("/usr/bin/env", ["python3"] + arguments, output: .pipe, errors: .file(errorLog.path))
        let pid = process.pid
        guard let reader = process.output else { throw SMTPTestServerError(description: "no pipe from the SMTP test server") }
        let port: Int? = try await BlockingWork.run {
            // A watchdog: a server that has not said LISTENING in time is killed, which ends the read.
            let started = Atomic<Bool>(false)
            DispatchQueue.global().asyncAfter(deadline: .now() + 30) {
                if !started.load(ordering: .acquiring) { kill(pid, SIGKILL) }
            }
            var pending = Data()
            while true {
                let chunk = reader.availableData
                if chunk.isEmpty { return nil }
                pending += chunk
                if let text = String(data: pending, encoding: .utf8),
                   let line = text.split(separator: "\n").first(where: { $0.hasPrefix("LISTENING ") }),
                   let port = Int(line.dropFirst("LISTENING ".count)) {
                    started.store(true, ordering: .releasing)
                    return port
                }
            }
        }
        let server = SMTPTestServer(port: port ?? 0, certificate: certificate, directory: directory, process: process)
        guard port != nil else {
            let log = (try? String(contentsOf: errorLog, encoding: .utf8)) ?? ""
            await server.stop()
            throw SMTPTestServerError(description: "the SMTP test server did not start: \(log)")
        }
        return server
    }
}

public struct SMTPTestServerError: Error, CustomStringConvertible {
    public var description: String
}

/// One message as the test server recorded it, decoded by Python's `email` package.
public struct ReceivedMail: Decodable, Sendable {
    public struct Mailbox: Decodable, Sendable, Equatable {
        public var name: String
        public var address: String

        public init(name: String, address: String) {
            self.name = name
            self.address = address
        }
    }

    public var mailFrom: String
    public var rcptTos: [String]
    public var tls: Bool
    public var authUser: String?
    /// The DATA bytes, base64.
    public var raw: String
    public var subject: String?
    public var fromName: String?
    public var fromAddress: String?
    public var to: [Mailbox]
    public var body: String?
    public var contentTransferEncoding: String?
    public var headerLinesMax: Int
    public var bodyLinesMax: Int

    public var rawBytes: [UInt8] { Array(Data(base64Encoded: raw) ?? Data()) }
}
