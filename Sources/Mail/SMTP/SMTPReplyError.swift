/// The server answered a command with a reply other than the one that lets delivery go on.
///
/// Permanent for 5xx replies (the server refuses: unknown mailbox, bad credentials, policy), so
/// a retry would only be refused again; transient for 4xx (greylisting, a full queue, a failure
/// the server expects to clear) and for the rare unexpected 2xx/3xx.
public struct SMTPReplyError: MailDeliveryError, Equatable, CustomStringConvertible {
    /// The reply code (`550`).
    public var code: Int
    /// The RFC 3463 enhanced status code (`5.1.1`), when the server sent one.
    public var enhancedCode: String?
    /// The reply text, one entry per line, without the code.
    public var lines: [String]
    /// The command that was answered, with any credentials replaced by a placeholder
    /// (`RCPT TO:<a@example.com>`, `AUTH PLAIN`, `end of DATA`).
    public var command: String
    /// The stage of the conversation.
    public var stage: SMTPStage

    /// An error for `reply` to `command`; `command` must already be free of credentials.
    public init(code: Int, enhancedCode: String? = nil, lines: [String], command: String, stage: SMTPStage) {
        self.code = code
        self.enhancedCode = enhancedCode
        self.lines = lines
        self.command = command
        self.stage = stage
    }

    public var isPermanent: Bool { code >= 500 }

    public var description: String {
        let text = lines.joined(separator: " / ")
        return "SMTP \(stage) failed: \(command) answered \(code) \(text)"
    }
}
