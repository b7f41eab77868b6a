import Logging
import NIOCore
import NIOPosix

/// Delivers mail through an SMTP server with `SMTPClient`, one connection per message.
public struct SMTPTransport: MailTransport {
    private let client: SMTPClient
    private let logger: Logger

    /// A transport for the server in `configuration`; creating it opens no connection.
    public init(configuration: SMTPConfiguration, eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, logger: Logger) {
        self.client = SMTPClient(configuration: configuration, eventLoopGroup: eventLoopGroup, logger: logger)
        self.logger = logger
    }

    /// Delivers `message` to all its recipients and logs one `info` line once the server accepted it.
    /// - Throws: the `MailDeliveryError`s of `SMTPClient.send(_:)`.
    public func send(_ message: MailMessage) async throws {
        try await client.send(message)
        logger.info("mail sent", metadata: message.logMetadata(transport: "smtp"))
    }
}

extension MailMessage {
    /// The fields of the one line a transport logs per delivered mail.
    func logMetadata(transport: String) -> Logger.Metadata {
        [
            "mail.id": "\(messageID)",
            "mail.to": "\(to.map(\.address).joined(separator: ","))",
            "mail.subject": "\(subject.count > 80 ? subject.prefix(79) + "…" : subject)",
            "mail.transport": "\(transport)",
        ]
    }
}
