/// The step of an SMTP conversation at which a delivery failed; named in every SMTP error.
public enum SMTPStage: String, Sendable, Hashable, CustomStringConvertible {
    /// Opening the TCP connection (and, for `smtps`, the TLS handshake).
    case connect
    /// Waiting for the server's 220 greeting.
    case greeting
    /// EHLO, or HELO when the server refuses EHLO.
    case ehlo
    /// STARTTLS and the TLS handshake that follows it.
    case starttls
    /// AUTH PLAIN or AUTH LOGIN.
    case auth
    /// MAIL FROM.
    case mail
    /// RCPT TO, for any recipient.
    case rcpt
    /// DATA, the message itself and its final reply.
    case data
    /// QUIT.
    case quit

    public var description: String {
        switch self {
        case .connect: "connect"
        case .greeting: "greeting"
        case .ehlo: "EHLO"
        case .starttls: "STARTTLS"
        case .auth: "AUTH"
        case .mail: "MAIL FROM"
        case .rcpt: "RCPT TO"
        case .data: "DATA"
        case .quit: "QUIT"
        }
    }
}
