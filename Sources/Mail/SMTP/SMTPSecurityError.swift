/// The client refused to go on because the connection would not be as safe as configured.
///
/// Permanent: the server's offer does not change between attempts, only its configuration (or
/// ours) does, so retrying the same mail cannot help until someone fixes that.
public enum SMTPSecurityError: MailDeliveryError, Equatable, CustomStringConvertible {
    /// `starttls=required`, and the server does not offer STARTTLS.
    case startTLSNotOffered(server: String)
    /// Credentials are configured, the connection is not encrypted, and the server is not on
    /// loopback: the password would cross the network in the clear.
    case credentialsWouldBeSentInClear(server: String)
    /// Credentials are configured, and the server offers neither AUTH PLAIN nor AUTH LOGIN.
    case noSupportedAuthenticationMechanism(server: String, offered: [String])

    public var isPermanent: Bool { true }

    public var description: String {
        switch self {
        case .startTLSNotOffered(let server):
            "SMTP STARTTLS to \(server) failed: STARTTLS is required (starttls=required) but the server does not offer it"
        case .credentialsWouldBeSentInClear(let server):
            "SMTP AUTH to \(server) refused: the connection is not encrypted and the server is not on loopback, "
                + "so the password would be sent in the clear (use smtps:// or a server that offers STARTTLS)"
        case .noSupportedAuthenticationMechanism(let server, let offered):
            "SMTP AUTH to \(server) failed: the server offers \(offered.isEmpty ? "no AUTH" : "AUTH " + offered.joined(separator: " ")), "
                + "this client supports PLAIN and LOGIN"
        }
    }
}
