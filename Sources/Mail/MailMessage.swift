import Foundation

/// A mailbox: an ASCII address and an optional display name in any script.
public struct MailAddress: Sendable, Codable, Hashable {
    /// The addr-spec, `local@domain` (ASCII).
    public var address: String
    /// The display name (`김민수`), encoded as an RFC 2047 word when it is not plain ASCII.
    public var name: String?

    public init(_ address: String, name: String? = nil) {
        self.address = address
        self.name = name
    }
}

/// One plain-text mail, as the app composes it and a transport delivers it.
public struct MailMessage: Sendable, Codable, Hashable {
    /// The Message-ID without angle brackets (`job-42@agora.local`); the same for every attempt to
    /// deliver the same mail, so duplicates can be recognised downstream.
    public var messageID: String
    public var from: MailAddress
    public var to: [MailAddress]
    public var subject: String
    /// The body, UTF-8 text with `\n` line ends.
    public var text: String
    public var date: Date

    public init(messageID: String, from: MailAddress, to: [MailAddress], subject: String, text: String, date: Date = Date()) {
        self.messageID = messageID
        self.from = from
        self.to = to
        self.subject = subject
        self.text = text
        self.date = date
    }
}
