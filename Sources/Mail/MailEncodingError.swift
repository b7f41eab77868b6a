/// Why a message cannot be rendered. Always permanent: the same message fails the same way on
/// every attempt, so a job that hits it should not be retried.
public enum MailEncodingError: MailDeliveryError, Equatable, CustomStringConvertible {
    /// A header value (subject, display name, address) holds a CR or LF, which would let it add
    /// header fields of its own (header injection).
    case lineBreakInHeader(field: String)
    /// The address is not an ASCII `local@domain` that SMTP and the renderer can carry.
    case invalidAddress(String)
    /// The Message-ID is empty, not printable ASCII, or holds spaces or angle brackets.
    case invalidMessageID(String)
    /// The message names no recipient.
    case noRecipients

    public var isPermanent: Bool { true }

    public var description: String {
        switch self {
        case .lineBreakInHeader(let field):
            "mail header \(field) contains a line break"
        case .invalidAddress(let address):
            "invalid mail address \(String(reflecting: address))"
        case .invalidMessageID(let messageID):
            "invalid Message-ID \(String(reflecting: messageID))"
        case .noRecipients:
            "mail has no recipients"
        }
    }
}
