import Foundation
import Logging

/// Writes each mail as an RFC 5322 `.eml` file into a directory (placeholder until the SMTP branch lands).
public struct OutboxTransport: MailTransport {
    let directory: String
    let logger: Logger

    public init(directory: String, logger: Logger) {
        self.directory = directory
        self.logger = logger
    }

    public func send(_ message: MailMessage) async throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let text = "Message-ID: <\(message.messageID)>\r\nTo: \(message.to.map(\.address).joined(separator: ", "))\r\nSubject: \(message.subject)\r\n\r\n\(message.text)"
        try Data(text.utf8).write(to: URL(fileURLWithPath: directory).appendingPathComponent("\(message.messageID).eml"), options: .atomic)
        logger.info("mail delivered", metadata: ["messageID": "\(message.messageID)"])
    }
}
