/// The extensions a server announced in its EHLO reply (RFC 5321 4.1.1.1), the ones this client
/// acts on parsed out. A HELO-only server has none.
struct SMTPCapabilities: Sendable, Equatable {
    /// Every keyword (upper-cased) with its parameters.
    private(set) var keywords: [String: [String]] = [:]

    /// Capabilities of a server that answered HELO, not EHLO.
    init() {}

    /// Parses the EHLO reply; its first line is the greeting, each later line one extension.
    init(ehloReply: SMTPReply) {
        for line in ehloReply.lines.dropFirst() {
            var words = line.split(separator: " ").map(String.init)
            guard !words.isEmpty else { continue }
            var keyword = words.removeFirst().uppercased()
            // Some old servers announce `AUTH=LOGIN PLAIN` besides (or instead of) `AUTH LOGIN PLAIN`.
            if keyword.hasPrefix("AUTH=") {
                words.insert(String(keyword.dropFirst(5)), at: 0)
                keyword = "AUTH"
            }
            keywords[keyword, default: []] += words
        }
    }

    /// STARTTLS (RFC 3207).
    var supportsStartTLS: Bool { keywords["STARTTLS"] != nil }
    /// The SASL mechanisms of AUTH (RFC 4954), upper-cased.
    var authenticationMechanisms: Set<String> { Set((keywords["AUTH"] ?? []).map { $0.uppercased() }) }
    /// The largest message the server accepts (RFC 1870); nil when not announced or unlimited (0).
    var maximumMessageSize: Int? {
        guard let value = keywords["SIZE"]?.first.flatMap({ Int($0) }), value > 0 else { return nil }
        return value
    }
    /// 8BITMIME (RFC 6152). Agora's messages are 7-bit, so this is informational.
    var supports8BitMIME: Bool { keywords["8BITMIME"] != nil }
    /// SMTPUTF8 (RFC 6531). Agora's addresses are ASCII, so this is informational.
    var supportsSMTPUTF8: Bool { keywords["SMTPUTF8"] != nil }
    /// SIZE announced at all, so `MAIL FROM` may declare the message size.
    var supportsSize: Bool { keywords["SIZE"] != nil }
}
