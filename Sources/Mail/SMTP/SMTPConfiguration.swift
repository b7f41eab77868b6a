import Foundation

/// Where and how `SMTPClient` delivers: server, encryption, credentials, timeouts.
///
/// Usually read once from a URL (see `init(url:)`), then adjusted in code where a URL cannot say
/// it (trust roots for a self-signed server, timeouts).
public struct SMTPConfiguration: Sendable, Hashable, CustomStringConvertible {
    /// How the connection is encrypted.
    public enum Encryption: Sendable, Hashable, CustomStringConvertible {
        /// Plain TCP, upgraded with STARTTLS when the server offers it (`smtp://`).
        case startTLSWhenOffered
        /// Plain TCP, upgraded with STARTTLS; delivery fails if the server does not offer it
        /// (`smtp://…?starttls=required`).
        case startTLSRequired
        /// Plain TCP, never upgraded (`smtp://…?starttls=never`); for test servers and trusted relays.
        case none
        /// TLS from the first byte (`smtps://`, RFC 8314).
        case implicitTLS

        public var description: String {
            switch self {
            case .startTLSWhenOffered: "STARTTLS when offered"
            case .startTLSRequired: "STARTTLS required"
            case .none: "no TLS"
            case .implicitTLS: "implicit TLS"
            }
        }
    }

    /// A user name and password for SMTP AUTH. Printing, dumping or logging it never shows the
    /// password.
    public struct Credentials: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible,
        CustomReflectable
    {
        /// The SASL authentication identity, usually the mailbox or account name.
        public var username: String
        /// Sent only as AUTH PLAIN/LOGIN requires it; never printed.
        public var password: String

        /// Credentials for AUTH PLAIN or AUTH LOGIN.
        public init(username: String, password: String) {
            self.username = username
            self.password = password
        }

        public var description: String { "\(username):<redacted>" }
        public var debugDescription: String { description }
        public var customMirror: Mirror { Mirror(self, children: ["username": username, "password": "<redacted>"]) }
    }

    /// The submission port (RFC 6409), the default for `smtp://`: Agora hands mail to a
    /// submission server as a client. A relay on port 25 must be named explicitly (`smtp://host:25`).
    public static let defaultSubmissionPort = 587
    /// The port for submission over implicit TLS (RFC 8314), the default for `smtps://`.
    public static let defaultImplicitTLSPort = 465

    /// The server's host name or IP address (without brackets for IPv6).
    public var host: String
    /// The server's TCP port.
    public var port: Int
    /// Whether and how the connection is encrypted.
    public var encryption: Encryption
    /// Sent only when given, and only over TLS or to a loopback server (see `SMTPClient`).
    public var credentials: Credentials?
    /// The name this client gives in EHLO/HELO. Some servers expect the sender's FQDN here.
    public var heloName: String = "localhost"
    /// A PEM file of certificates to trust instead of the system's roots: for a server with a
    /// self-signed or private-CA certificate, and for tests. nil trusts the system roots.
    public var trustedCertificatesPath: String?
    /// How long opening the TCP connection may take.
    public var connectTimeout: Duration = .seconds(10)
    /// How long the server may take to answer the greeting and each command (and a TLS handshake).
    public var commandTimeout: Duration = .seconds(60)
    /// How long the server may take to accept the message after its last byte; servers scan
    /// mail here, so this is longer (RFC 5321 4.5.3.2.6 suggests up to 10 minutes).
    public var dataTimeout: Duration = .seconds(180)

    /// A configuration for `host`; `port` defaults to 465 for implicit TLS, 587 otherwise.
    public init(host: String, port: Int? = nil, encryption: Encryption = .startTLSWhenOffered, credentials: Credentials? = nil) {
        self.host = host
        self.port = port ?? (encryption == .implicitTLS ? Self.defaultImplicitTLSPort : Self.defaultSubmissionPort)
        self.encryption = encryption
        self.credentials = credentials
    }

    /// Parses `smtp://user:password@host:port?starttls=required` or `smtps://user:password@host:port`.
    ///
    /// - `smtp://` connects in plain TCP and upgrades with STARTTLS when offered; default port 587.
    ///   `?starttls=required` fails delivery when it is not offered, `?starttls=never` never upgrades.
    /// - `smtps://` speaks TLS from the first byte; default port 465.
    /// - User and password are percent-decoded (`p%40ss` is `p@ss`); without them, no AUTH.
    /// - `?helo=name` sets `heloName`.
    ///
    /// - Throws: `SMTPConfigurationError`, whose text never repeats the password.
    public init(url: String) throws(SMTPConfigurationError) {
        guard let components = URLComponents(string: url) else { throw .malformedURL }
        let scheme = components.scheme?.lowercased()
        var encryption: Encryption
        switch scheme {
        case "smtp": encryption = .startTLSWhenOffered
        case "smtps": encryption = .implicitTLS
        default: throw .unsupportedScheme(scheme ?? "")
        }
        guard var host = components.host, !host.isEmpty else { throw .missingHost }
        if host.hasPrefix("["), host.hasSuffix("]") {
            host = String(host.dropFirst().dropLast())
        }
        if let port = components.port, !(1...65535).contains(port) {
            throw .invalidPort
        }
        var heloName: String?
        for item in components.percentEncodedQueryItems ?? [] {
            let value = item.value?.removingPercentEncoding
            switch (item.name.lowercased(), value?.lowercased()) {
            case ("starttls", "required"):
                guard encryption != .implicitTLS else { throw .startTLSOptionWithImplicitTLS }
                encryption = .startTLSRequired
            case ("starttls", "never"):
                guard encryption != .implicitTLS else { throw .startTLSOptionWithImplicitTLS }
                encryption = .none
            case ("starttls", _):
                throw .invalidOption(name: item.name, allowed: "required, never")
            case ("helo", let name?) where !name.isEmpty:
                heloName = value
            default:
                throw .invalidOption(name: item.name, allowed: "starttls, helo")
            }
        }
        var credentials: Credentials?
        if let encodedUser = components.percentEncodedUser {
            guard let username = encodedUser.removingPercentEncoding,
                  let password = (components.percentEncodedPassword ?? "").removingPercentEncoding
            else { throw .malformedCredentials }
            credentials = Credentials(username: username, password: password)
        }
        self.init(host: host, port: components.port, encryption: encryption, credentials: credentials)
        if let heloName {
            self.heloName = heloName
        }
    }

    /// `host:port` (`[::1]:25` for IPv6), as errors and logs name the server.
    var endpoint: String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    /// The server as a URL without the password, for logs: `smtp://user@host:587 (STARTTLS when offered)`.
    public var description: String {
        let scheme = encryption == .implicitTLS ? "smtps" : "smtp"
        let user = credentials.map { "\($0.username)@" } ?? ""
        return "\(scheme)://\(user)\(endpoint) (\(encryption))"
    }
}

/// An SMTP URL that cannot be used. The text never repeats the URL, which may hold a password.
public enum SMTPConfigurationError: Error, Equatable, CustomStringConvertible {
    case malformedURL
    case unsupportedScheme(String)
    case missingHost
    case invalidPort
    case malformedCredentials
    case invalidOption(name: String, allowed: String)
    case startTLSOptionWithImplicitTLS

    public var description: String {
        switch self {
        case .malformedURL: "the SMTP URL is malformed"
        case .unsupportedScheme(let scheme): "the SMTP URL scheme \(String(reflecting: scheme)) is not smtp or smtps"
        case .missingHost: "the SMTP URL has no host"
        case .invalidPort: "the SMTP URL's port is not between 1 and 65535"
        case .malformedCredentials: "the SMTP URL's user or password is not valid percent-encoding"
        case .invalidOption(let name, let allowed): "the SMTP URL option \(String(reflecting: name)) is unknown or has an invalid value (options: \(allowed))"
        case .startTLSOptionWithImplicitTLS: "the starttls option does not apply to smtps:// (TLS from the first byte)"
        }
    }
}
