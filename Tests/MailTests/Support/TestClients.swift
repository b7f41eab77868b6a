import SMTPTestSupport
import Logging
import Mail

/// A client configuration for a test server on 127.0.0.1, trusting the test certificate.
func clientConfiguration(
    for server: SMTPTestServer, host: String = "127.0.0.1", encryption: SMTPConfiguration.Encryption = .startTLSWhenOffered,
    credentials: SMTPConfiguration.Credentials? = nil
) -> SMTPConfiguration {
    var configuration = SMTPConfiguration(host: host, port: server.port, encryption: encryption, credentials: credentials)
    configuration.trustedCertificatesPath = server.certificate?.certificatePath
    // Generous: CI is a loaded 2-core machine. Timeout tests set their own.
    configuration.connectTimeout = .seconds(20)
    configuration.commandTimeout = .seconds(30)
    return configuration
}

let testLogger = Logger(label: "mail-tests")
