/// The quoted-printable content transfer encoding of RFC 2045 6.7, for text that is mostly ASCII.
///
/// Hand-written: Foundation and the packages Agora uses have no MIME body encoder.
enum QuotedPrintable {
    /// Encoded lines are at most 76 characters (RFC 2045 6.7 rule 5), soft-break `=` included.
    static let maximumLineLength = 76

    /// Encodes text lines (without their line ends) and returns the body with CRLF line ends.
    ///
    /// Every input line ends with a hard line break. Bytes other than printable ASCII, and `=`,
    /// become `=XX`; a space or tab at the end of a line is encoded too, because transports may
    /// strip trailing whitespace (rule 3). Longer lines are split with soft line breaks (`=`)
    /// that never cut an `=XX` escape.
    static func encode(lines: [ArraySlice<UInt8>]) -> [UInt8] {
        var output: [UInt8] = []
        for line in lines {
            var lineLength = 0
            for (offset, byte) in line.enumerated() {
                let isLast = offset == line.count - 1
                let token = encoded(byte, atEndOfLine: isLast)
                // Keep room for the soft break `=` unless this token ends the line.
                let room = isLast ? maximumLineLength : maximumLineLength - 1
                if lineLength + token.count > room {
                    output += Array("=\r\n".utf8)
                    lineLength = 0
                }
                output += token
                lineLength += token.count
            }
            output += Array("\r\n".utf8)
        }
        return output
    }

    private static let hexDigits = Array("0123456789ABCDEF".utf8)

    private static func encoded(_ byte: UInt8, atEndOfLine: Bool) -> [UInt8] {
        let isLiteral: Bool
        switch byte {
        case UInt8(ascii: "="): isLiteral = false
        case UInt8(ascii: " "), UInt8(ascii: "\t"): isLiteral = !atEndOfLine
        case 33...126: isLiteral = true
        default: isLiteral = false
        }
        if isLiteral {
            return [byte]
        }
        return [UInt8(ascii: "="), hexDigits[Int(byte >> 4)], hexDigits[Int(byte & 0x0F)]]
    }
}
