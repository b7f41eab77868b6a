import Foundation
import Logging
import Mail

extension AppSettings {
    /// The transport the settings choose: SMTP when `AGORA_SMTP_URL` is set, otherwise `.eml`
    /// files in `<data dir>/outbox`, so a fresh install needs no mail server.
    func makeMailTransport(logger: Logger) throws -> any MailTransport {
        if smtpURL != nil { throw MailSettingsError(message: "SMTP is not wired yet") }
        return OutboxTransport(directory: outboxDirectory, logger: logger)
    }

    /// Where the default transport writes mail.
    public var outboxDirectory: String {
        URL(fileURLWithPath: dataDirectory, isDirectory: true).appendingPathComponent("outbox").path
    }
}

struct MailSettingsError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}
