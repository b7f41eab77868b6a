/// Splits the bytes a server sends into complete replies, joining multi-line ones
/// (`250-first`, `250-second`, `250 last`) as RFC 5321 4.2.1 describes.
///
/// Pure and synchronous, so it can be tested without a connection; `SMTPReplyHandler` feeds it.
struct SMTPReplyParser {
    /// RFC 5321 allows 512 octets per reply line; real servers stay far below this bound.
    static let maximumLineLength = 4096
    /// A bound on continuation lines, so a hostile server cannot grow one reply forever.
    static let maximumLinesPerReply = 256

    private var partialLine: [UInt8] = []
    private var replyCode: Int?
    private var replyLines: [String] = []

    /// True while bytes of an unfinished line or reply are held. After a `220` to STARTTLS this
    /// must be false: anything already sent in plain text would otherwise be taken as coming
    /// from inside TLS (the STARTTLS command injection attack).
    var hasUnfinishedInput: Bool { !partialLine.isEmpty || replyCode != nil }

    /// Consumes `bytes` and returns the replies they complete, in order.
    /// - Throws: `SMTPProtocolViolation` for a line that is not `<code>[-| ]<text>`, a line or
    ///   reply over the bounds, or a multi-line reply whose lines disagree on the code.
    mutating func parse(_ bytes: some Sequence<UInt8>) throws(SMTPProtocolViolation) -> [SMTPReply] {
        var replies: [SMTPReply] = []
        for byte in bytes {
            guard byte == UInt8(ascii: "\n") else {
                partialLine.append(byte)
                if partialLine.count > Self.maximumLineLength {
                    throw SMTPProtocolViolation("reply line longer than \(Self.maximumLineLength) bytes")
                }
                continue
            }
            if partialLine.last == UInt8(ascii: "\r") {
                partialLine.removeLast()
            }
            let line = partialLine
            partialLine.removeAll(keepingCapacity: true)
            if let reply = try consume(line: line) {
                replies.append(reply)
            }
        }
        return replies
    }

    private mutating func consume(line: [UInt8]) throws(SMTPProtocolViolation) -> SMTPReply? {
        guard line.count >= 3,
              line[0...2].allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }),
              (UInt8(ascii: "2")...UInt8(ascii: "5")).contains(line[0])
        else {
            throw SMTPProtocolViolation("malformed reply line \(String(reflecting: String(decoding: line.prefix(80), as: UTF8.self)))")
        }
        let code = line[0...2].reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
        let separator = line.count > 3 ? line[3] : UInt8(ascii: " ")
        guard separator == UInt8(ascii: " ") || separator == UInt8(ascii: "-") else {
            throw SMTPProtocolViolation("malformed reply line (code \(code) followed by \(separator))")
        }
        if let replyCode, replyCode != code {
            throw SMTPProtocolViolation("multi-line reply mixes codes \(replyCode) and \(code)")
        }
        replyCode = code
        replyLines.append(String(decoding: line.dropFirst(4), as: UTF8.self))
        if replyLines.count > Self.maximumLinesPerReply {
            throw SMTPProtocolViolation("reply longer than \(Self.maximumLinesPerReply) lines")
        }
        guard separator == UInt8(ascii: " ") else { return nil }
        let reply = SMTPReply(code: code, lines: replyLines)
        replyCode = nil
        replyLines = []
        return reply
    }
}

/// The server broke the reply syntax of RFC 5321; the connection cannot be trusted further.
struct SMTPProtocolViolation: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
