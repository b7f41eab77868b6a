/// Delivers rendered mail. Agora has two: `OutboxTransport` (RFC 5322 files in a directory, the
/// default, so a fresh install needs no mail server) and `SMTPTransport` (a real server).
public protocol MailTransport: Sendable {
    /// Delivers `message` once; throws a `MailDeliveryError` (or another error, treated as transient).
    func send(_ message: MailMessage) async throws
}

/// Why a delivery failed, and whether trying again later can help.
public protocol MailDeliveryError: Error {
    /// True for failures that a retry cannot fix (an SMTP 5xx reply, a message that cannot be encoded).
    var isPermanent: Bool { get }
}
