import Foundation
import ProcessTestSupport

/// A self-signed certificate for `localhost` and 127.0.0.1, made once per test run with the
/// `openssl` command line tool; the test server presents it, and the client trusts it as its root.
public struct TestCertificate: Sendable {
    public let certificatePath: String
    public let keyPath: String

    /// The run's certificate, generated on first use.
    public static var shared: TestCertificate {
        get async throws { try await generation.value }
    }

    private static let generation = Task { try await generate() }

    private static func generate() async throws -> TestCertificate {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("agora-mail-tests-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let certificate = TestCertificate(
            certificatePath: directory.appendingPathComponent("cert.pem").path,
            keyPath: directory.appendingPathComponent("key.pem").path)
        let arguments = [
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", certificate.keyPath, "-out", certificate.certificatePath, "-days", "2",
            "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
        ]
        let status = try await BlockingWork.run {
            try ChildProcess("/usr/bin/env", arguments).wait()
        }
        guard status == 0 else { throw TestCertificateError(status: status) }
        return certificate
    }
}

struct TestCertificateError: Error, CustomStringConvertible {
    var status: Int32
    var description: String { "openssl req failed with status \(status) (is the openssl package installed?)" }
}
