/// The addr-spec syntax this library accepts: `local@domain` in ASCII, as RFC 5321 carries it in
/// `MAIL FROM`/`RCPT TO` and RFC 5322 in `From`/`To`.
///
/// Deliberately narrower than RFC 5322: the local part is a dot-atom (no quoted local parts), the
/// domain a host name or a bracketed address literal, and no internationalised addresses (they
/// would need SMTPUTF8 end to end). Anything outside that is refused rather than sent half-right.
enum AddressSpec {
    /// RFC 5321's limit on a forward path (4.5.3.1.3), less the angle brackets.
    static let maximumLength = 254

    /// Returns normally when `address` is a valid addr-spec.
    /// - Throws: `MailEncodingError.lineBreakInHeader` for CR or LF (an injection attempt),
    ///   `MailEncodingError.invalidAddress` for anything else that is not a plain addr-spec.
    static func validate(_ address: String) throws(MailEncodingError) {
        let bytes = Array(address.utf8)
        if bytes.contains(where: { $0 == UInt8(ascii: "\r") || $0 == UInt8(ascii: "\n") }) {
            throw .lineBreakInHeader(field: "address")
        }
        guard bytes.count <= maximumLength,
              let at = bytes.lastIndex(of: UInt8(ascii: "@")),
              isDotAtom(bytes[..<at]),
              isDomain(bytes[(at + 1)...])
        else {
            throw .invalidAddress(address)
        }
    }

    private static func isDotAtom(_ local: ArraySlice<UInt8>) -> Bool {
        guard !local.isEmpty, local.count <= 64 else { return false }
        // Empty atoms: a leading, trailing or doubled dot.
        let atoms = local.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        return atoms.allSatisfy { atom in !atom.isEmpty && atom.allSatisfy(isAtomCharacter) }
    }

    private static func isDomain(_ domain: ArraySlice<UInt8>) -> Bool {
        guard !domain.isEmpty else { return false }
        if domain.first == UInt8(ascii: "[") {
            // An address literal such as [127.0.0.1] or [IPv6:::1].
            guard domain.count > 2, domain.last == UInt8(ascii: "]") else { return false }
            return domain.dropFirst().dropLast().allSatisfy { byte in
                isLetterOrDigit(byte) || byte == UInt8(ascii: ".") || byte == UInt8(ascii: ":")
            }
        }
        let labels = domain.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        return labels.allSatisfy { label in
            !label.isEmpty && label.count <= 63
                && label.first != UInt8(ascii: "-") && label.last != UInt8(ascii: "-")
                && label.allSatisfy { isLetterOrDigit($0) || $0 == UInt8(ascii: "-") }
        }
    }

    private static func isLetterOrDigit(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
            || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }

    /// RFC 5322 atext.
    static func isAtomCharacter(_ byte: UInt8) -> Bool {
        isLetterOrDigit(byte) || atomSymbols.contains(byte)
    }

    private static let atomSymbols = Set("!#$%&'*+-/=?^_`{|}~".utf8)
}
