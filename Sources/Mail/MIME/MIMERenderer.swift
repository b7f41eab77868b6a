extension MailMessage {
    /// The message as RFC 5322 / MIME bytes, ready for SMTP `DATA` or an `.eml` file.
    ///
    /// Guarantees: CRLF line ends throughout and only 7-bit ASCII, so any relay carries it
    /// unchanged; header lines within 78 characters wherever the content can be folded; display
    /// names and subjects that are not plain ASCII as RFC 2047 encoded-words that never split a
    /// UTF-8 sequence; a `text/plain; charset=utf-8` body sent as 7bit, quoted-printable or base64,
    /// whichever fits (see `ContentTransferEncoding`), with lines of at most 76 characters when
    /// encoded. The body's line ends (`\n`, `\r\n` or `\r`) become CRLF and it always ends with
    /// one: SMTP requires the last line to be terminated, so a text without a final line break
    /// gains one.
    ///
    /// - Throws: `MailEncodingError` (permanent) when a header would carry a line break (header
    ///   injection), an address is not a plain ASCII addr-spec, the Message-ID is unusable, or
    ///   there is no recipient.
    public func rendered() throws(MailEncodingError) -> [UInt8] {
        try MIMERenderer(message: self).render()
    }
}

/// Renders a `MailMessage` as a single-part text/plain MIME message.
///
/// Hand-written: no available Swift package renders MIME. The pieces it uses are `HeaderField`
/// (folding, encoded-words), `ContentTransferEncoding` and `QuotedPrintable`.
struct MIMERenderer {
    let message: MailMessage

    func render() throws(MailEncodingError) -> [UInt8] {
        guard !message.to.isEmpty else { throw .noRecipients }
        try validateMessageID()
        let lines = bodyLines()
        let encoding = ContentTransferEncoding.choose(for: lines)
        let fields = [
            HeaderField("Date", MailDateFormat.string(from: message.date)),
            try HeaderField.mailboxes("From", [message.from]),
            try HeaderField.mailboxes("To", message.to),
            try HeaderField.unstructured("Subject", message.subject),
            HeaderField("Message-ID", "<\(message.messageID)>"),
            HeaderField("MIME-Version", "1.0"),
            HeaderField("Content-Type", "text/plain; charset=utf-8"),
            HeaderField("Content-Transfer-Encoding", encoding.rawValue),
        ]
        var output = Array(fields.map { $0.rendered() }.joined().utf8)
        output += Array("\r\n".utf8)
        output += encoding.encode(lines: lines)
        return output
    }

    /// The body's lines without their line ends, whichever convention the text used.
    private func bodyLines() -> [ArraySlice<UInt8>] {
        let bytes = Array(message.text.utf8)
        var lines: [ArraySlice<UInt8>] = []
        var start = 0
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r") {
                lines.append(bytes[start..<index])
                if byte == UInt8(ascii: "\r"), index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "\n") {
                    index += 1
                }
                start = index + 1
            }
            index += 1
        }
        if start < bytes.count {
            lines.append(bytes[start...])
        }
        return lines
    }

    private func validateMessageID() throws(MailEncodingError) {
        let id = message.messageID
        if id.utf8.contains(where: { $0 == UInt8(ascii: "\r") || $0 == UInt8(ascii: "\n") }) {
            throw .lineBreakInHeader(field: "Message-ID")
        }
        let isUsable = !id.isEmpty && id.utf8.count <= 900 && id.utf8.allSatisfy { byte in
            (0x21...0x7E).contains(byte) && byte != UInt8(ascii: "<") && byte != UInt8(ascii: ">")
        }
        if !isUsable {
            throw .invalidMessageID(id)
        }
    }
}
