/// The conversation broke off before the server could answer: no connection, no reply in time,
/// a closed connection, a failed TLS handshake, or replies that are not SMTP.
///
/// Always transient: the next attempt, on a new connection, may well succeed. The text names
/// the server and the stage, and never contains credentials.
public struct SMTPConnectionError: MailDeliveryError, Equatable, CustomStringConvertible {
    /// What went wrong.
    public enum Reason: Sendable, Equatable, CustomStringConvertible {
        /// The TCP connection could not be opened (refused, unreachable, unknown host).
        case connectFailed(String)
        /// No connection or no reply within the configured timeout.
        case timedOut(Duration)
        /// The server closed the connection.
        case closedByServer
        /// The connection failed under the conversation (reset, broken pipe).
        case connectionLost(String)
        /// The TLS handshake or the encrypted stream failed (untrusted certificate, wrong name…).
        case tlsFailed(String)
        /// The server's bytes are not valid SMTP replies.
        case protocolViolation(String)

        public var description: String {
            switch self {
            case .connectFailed(let detail): "could not connect (\(detail))"
            case .timedOut(let timeout): "no answer within \(timeout)"
            case .closedByServer: "the server closed the connection"
            case .connectionLost(let detail): "the connection was lost (\(detail))"
            case .tlsFailed(let detail): "TLS failed (\(detail))"
            case .protocolViolation(let detail): "the server broke the SMTP protocol (\(detail))"
            }
        }
    }

    /// `host:port` of the SMTP server.
    public var server: String
    /// The stage of the conversation.
    public var stage: SMTPStage
    /// What went wrong.
    public var reason: Reason

    /// An error at `stage` with `server` (`host:port`).
    public init(server: String, stage: SMTPStage, reason: Reason) {
        self.server = server
        self.stage = stage
        self.reason = reason
    }

    public var isPermanent: Bool { false }

    public var description: String {
        "SMTP \(stage) to \(server) failed: \(reason)"
    }
}
