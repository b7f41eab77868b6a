import Foundation
import Logging
import Mail
import NIOPosix

extension AppSettings {
    /// The transport the settings choose: SMTP when `AGORA_SMTP_URL` is set, otherwise `.eml`
    /// files in `<data dir>/outbox`, so a fresh install needs no mail server; the outbox writes
    /// on `fileThreads`.
    func makeMailTransport(fileThreads: NIOThreadPool, logger: Logger) throws -> any MailTransport {
        guard let smtpURL else {
            return OutboxTransport(directory: outboxDirectory, logger: logger, threadPool: fileThreads)
        }
        var configuration = try SMTPConfiguration(url: smtpURL)
        configuration.trustedCertificatesPath = smtpCAFile
        return SMTPTransport(configuration: configuration, logger: logger)
    }

    /// Where the default transport writes mail.
    public var outboxDirectory: String {
        URL(fileURLWithPath: dataDirectory, isDirectory: true).appendingPathComponent("outbox").path
    }
}
