import Foundation

/// SMTP AUTH (RFC 4954) with the two mechanisms every submission server offers: PLAIN
/// (RFC 4616), preferred because it takes one round trip, and LOGIN.
///
/// Both send the password itself, so `SMTPClient` only runs them over TLS or to loopback. The
/// commands are logged and reported as `AUTH PLAIN` / `AUTH LOGIN` only, never with their
/// base64 arguments.
enum SMTPAuthentication {
    case plain
    case login

    /// The preferred mechanism among those the server offered, nil when it offers neither.
    init?(offered: Set<String>) {
        if offered.contains("PLAIN") {
            self = .plain
        } else if offered.contains("LOGIN") {
            self = .login
        } else {
            return nil
        }
    }

    /// Authenticates on `connection`.
    /// - Throws: `SMTPReplyError` at stage `auth` when the server refuses (535 for wrong
    ///   credentials: permanent), `SMTPConnectionError` when the connection fails.
    func authenticate(_ credentials: SMTPConfiguration.Credentials, on connection: inout SMTPConnection, timeout: Duration) async throws {
        switch self {
        case .plain:
            let response = Self.base64("\0\(credentials.username)\0\(credentials.password)")
            let reply = try await connection.send("AUTH PLAIN \(response)", redacted: "AUTH PLAIN", stage: .auth, timeout: timeout)
            try Self.expect(235, reply, command: "AUTH PLAIN")
        case .login:
            var reply = try await connection.send("AUTH LOGIN", stage: .auth, timeout: timeout)
            try Self.expect(334, reply, command: "AUTH LOGIN")
            reply = try await connection.send(Self.base64(credentials.username), redacted: "AUTH LOGIN (user name)", stage: .auth, timeout: timeout)
            try Self.expect(334, reply, command: "AUTH LOGIN (user name)")
            reply = try await connection.send(Self.base64(credentials.password), redacted: "AUTH LOGIN (password)", stage: .auth, timeout: timeout)
            try Self.expect(235, reply, command: "AUTH LOGIN (password)")
        }
    }

    private static func base64(_ text: String) -> String {
        Data(text.utf8).base64EncodedString()
    }

    private static func expect(_ code: Int, _ reply: SMTPReply, command: String) throws {
        guard reply.code == code else {
            throw SMTPReplyError(code: reply.code, enhancedCode: reply.enhancedCode, lines: reply.lines, command: command, stage: .auth)
        }
    }
}
