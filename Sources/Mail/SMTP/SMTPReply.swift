/// One complete server reply: a three-digit code and its text lines (RFC 5321 4.2).
struct SMTPReply: Sendable, Equatable {
    /// The reply code, 200–599.
    var code: Int
    /// The text after the code on each line, without the code and separator.
    var lines: [String]

    /// The RFC 3463 enhanced status code (`5.7.8`) that starts the first line, if the server sent one.
    var enhancedCode: String? {
        guard let first = lines.first,
              let candidate = first.split(separator: " ", maxSplits: 1).first
        else { return nil }
        let parts = candidate.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3,
              let kind = parts.first, ["2", "4", "5"].contains(kind),
              parts.allSatisfy({ (1...3).contains($0.count) && $0.allSatisfy(\.isASCIIDigit) })
        else { return nil }
        return String(candidate)
    }

    var isPositiveCompletion: Bool { (200..<300).contains(code) }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}
