import Foundation

/// How a text body travels through 7-bit SMTP: as it is, quoted-printable, or base64 (RFC 2045).
///
/// Agora always sends 7-bit data, so the message needs neither 8BITMIME nor SMTPUTF8 from the
/// server and survives any relay unchanged.
enum ContentTransferEncoding: String {
    case sevenBit = "7bit"
    case quotedPrintable = "quoted-printable"
    case base64

    /// Lines this long or shorter may go unencoded (RFC 5322 2.1.1's recommended limit).
    static let longestPlainLine = 78
    /// base64 lines are 76 characters (RFC 2045 6.8).
    static let base64LineLength = 76

    /// The encoding for `lines` (text lines in UTF-8, without line ends).
    ///
    /// 7bit when every line is printable ASCII, short and without trailing whitespace (which
    /// relays may strip); otherwise whichever of quoted-printable and base64 is shorter, so
    /// mostly-ASCII text stays readable and mostly non-ASCII text (Korean, say) stays compact.
    static func choose(for lines: [ArraySlice<UInt8>]) -> ContentTransferEncoding {
        var unprintableBytes = 0
        var equalSigns = 0
        var totalBytes = 0
        var hasAwkwardLine = false
        for line in lines {
            totalBytes += line.count + 2
            for byte in line {
                if byte == UInt8(ascii: "=") {
                    equalSigns += 1
                } else if !(0x20...0x7E).contains(byte), byte != UInt8(ascii: "\t") {
                    unprintableBytes += 1
                }
            }
            if line.count > longestPlainLine || line.last == UInt8(ascii: " ") || line.last == UInt8(ascii: "\t") {
                hasAwkwardLine = true
            }
        }
        if unprintableBytes == 0 && !hasAwkwardLine {
            return .sevenBit
        }
        // An escaped byte costs three characters in quoted-printable; base64 costs 4/3 throughout.
        let quotedPrintableSize = totalBytes + 2 * (unprintableBytes + equalSigns)
        let base64Size = (totalBytes + 2) / 3 * 4
        return quotedPrintableSize <= base64Size ? .quotedPrintable : .base64
    }

    /// The encoded body with CRLF line ends; every line of `lines` ends with a line break.
    func encode(lines: [ArraySlice<UInt8>]) -> [UInt8] {
        switch self {
        case .sevenBit:
            var output: [UInt8] = []
            for line in lines {
                output += line
                output += Array("\r\n".utf8)
            }
            return output
        case .quotedPrintable:
            return QuotedPrintable.encode(lines: lines)
        case .base64:
            // The canonical form of text is CRLF line ends (RFC 2045 6.8), so those are encoded too.
            var canonical: [UInt8] = []
            for line in lines {
                canonical += line
                canonical += Array("\r\n".utf8)
            }
            let encoded = Array(Data(canonical).base64EncodedString().utf8)
            var output: [UInt8] = []
            var start = 0
            while start < encoded.count {
                let end = min(start + Self.base64LineLength, encoded.count)
                output += encoded[start..<end]
                output += Array("\r\n".utf8)
                start = end
            }
            return output
        }
    }
}
