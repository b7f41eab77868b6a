import Foundation

/// A rendered message taken apart again, independently of the renderer: headers unfolded and
/// their encoded-words decoded, the body decoded by its Content-Transfer-Encoding. The unit tests
/// use it for round trips; the integration tests use Python's `email` package instead.
struct RenderedMail {
    /// The header lines as rendered (folded), without CRLF.
    let headerLines: [String]
    /// The body lines as rendered, without CRLF.
    let bodyLines: [String]
    /// Unfolded header values by lower-cased name.
    let headers: [String: String]

    init(_ bytes: [UInt8]) {
        let text = String(decoding: bytes, as: UTF8.self)
        let parts = text.components(separatedBy: "\r\n\r\n")
        headerLines = parts[0].components(separatedBy: "\r\n")
        let body = parts.dropFirst().joined(separator: "\r\n\r\n")
        var lines = body.components(separatedBy: "\r\n")
        if lines.last == "" { lines.removeLast() }
        bodyLines = lines
        var headers: [String: String] = [:]
        for field in parts[0].replacingOccurrences(of: "\r\n ", with: " ").components(separatedBy: "\r\n") {
            guard let colon = field.firstIndex(of: ":") else { continue }
            let value = field[field.index(after: colon)...].drop(while: { $0 == " " })
            headers[field[..<colon].lowercased()] = String(value)
        }
        self.headers = headers
    }

    var contentTransferEncoding: String? { headers["content-transfer-encoding"] }

    /// A header's value with its encoded-words decoded (whitespace between adjacent words dropped).
    func decodedHeader(_ name: String) -> String? {
        headers[name.lowercased()].map(Self.decodeEncodedWords)
    }

    /// The body text, decoded, with LF line ends.
    var decodedBody: String {
        let body = bodyLines.joined(separator: "\r\n") + "\r\n"
        let bytes: [UInt8]
        switch contentTransferEncoding {
        case "base64":
            bytes = Array(Data(base64Encoded: bodyLines.joined()) ?? Data())
        case "quoted-printable":
            bytes = Self.decodeQuotedPrintable(body)
        default:
            bytes = Array(body.utf8)
        }
        return String(decoding: bytes, as: UTF8.self).replacingOccurrences(of: "\r\n", with: "\n")
    }

    static func decodeEncodedWords(_ value: String) -> String {
        let pattern = /=\?UTF-8\?B\?([A-Za-z0-9+\/=]*)\?=/
        var bytes: [UInt8] = []
        var rest = Substring(value)
        var afterEncodedWord = false
        while let match = rest.firstMatch(of: pattern) {
            let between = rest[..<match.range.lowerBound]
            // Whitespace between two encoded-words is not part of the text (RFC 2047 6.2).
            if !(afterEncodedWord && between.allSatisfy(\.isWhitespace)) {
                bytes += Array(between.utf8)
            }
            bytes += Array(Data(base64Encoded: String(match.output.1)) ?? Data())
            afterEncodedWord = true
            rest = rest[match.range.upperBound...]
        }
        bytes += Array(rest.utf8)
        return String(decoding: bytes, as: UTF8.self)
    }

    static func decodeQuotedPrintable(_ text: String) -> [UInt8] {
        var output: [UInt8] = []
        let bytes = Array(text.utf8)
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "="), index + 2 < bytes.count {
                if bytes[index + 1] == UInt8(ascii: "\r"), bytes[index + 2] == UInt8(ascii: "\n") {
                    index += 3  // a soft line break
                    continue
                }
                if let value = UInt8(String(decoding: bytes[(index + 1)...(index + 2)], as: UTF8.self), radix: 16) {
                    output.append(value)
                    index += 3
                    continue
                }
            }
            output.append(byte)
            index += 1
        }
        return output
    }
}
