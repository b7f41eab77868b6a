import Foundation

/// One RFC 5322 header field, folded at whitespace so lines stay within 78 characters where the
/// content allows, and with every non-ASCII or unsafe text turned into RFC 2047 encoded-words.
///
/// Hand-written: no available package renders MIME headers.
struct HeaderField {
    /// RFC 5322 2.1.1: lines SHOULD be no longer than 78 characters, excluding CRLF.
    static let preferredLineLength = 78
    /// Above this an ASCII word is encoded anyway, so it can be folded (the hard limit is 998).
    private static let longestUnfoldableWord = 500
    /// Quoted display names longer than this are encoded instead, so they can be folded.
    private static let longestQuotedName = 60

    let name: String
    /// The value in pieces. Every piece after the first begins with a space, and a fold (CRLF)
    /// may be placed before any of them: unfolding gives back the value exactly.
    let pieces: [String]

    /// A field whose value is already safe, printable ASCII (`Date`, `Message-ID`, `MIME-Version`).
    init(_ name: String, _ value: String) {
        self.name = name
        self.pieces = [value]
    }

    private init(name: String, pieces: [String]) {
        self.name = name
        self.pieces = pieces
    }

    /// An unstructured field such as `Subject`: plain ASCII stays readable (folded at spaces),
    /// anything else becomes encoded-words.
    /// - Throws: `MailEncodingError.lineBreakInHeader` when `text` holds CR or LF.
    static func unstructured(_ name: String, _ text: String) throws(MailEncodingError) -> HeaderField {
        try refuseLineBreaks(in: text, field: name)
        if let words = foldableWords(text) {
            return HeaderField(name: name, pieces: words)
        }
        return HeaderField(name: name, pieces: spaced(EncodedWord.words(for: text)))
    }

    /// An address-list field (`From`, `To`): `Name <local@domain>` for each mailbox, comma separated.
    /// - Throws: `MailEncodingError` for a line break in a name or address, or an invalid address.
    static func mailboxes(_ name: String, _ mailboxes: [MailAddress]) throws(MailEncodingError) -> HeaderField {
        var pieces: [String] = []
        for (index, mailbox) in mailboxes.enumerated() {
            try AddressSpec.validate(mailbox.address)
            var mailboxPieces: [String]
            if let displayName = mailbox.name, !displayName.isEmpty {
                try refuseLineBreaks(in: displayName, field: "\(name) display name")
                mailboxPieces = phrase(displayName) + [" <\(mailbox.address)>"]
            } else {
                mailboxPieces = [mailbox.address]
            }
            if index > 0 {
                mailboxPieces[0] = " " + mailboxPieces[0]
            }
            if index < mailboxes.count - 1 {
                mailboxPieces[mailboxPieces.count - 1] += ","
            }
            pieces += mailboxPieces
        }
        return HeaderField(name: name, pieces: pieces)
    }

    /// The field as it goes on the wire, CRLF line ends included.
    func rendered() -> String {
        var output = name + ":"
        var lineLength = output.count
        for (index, piece) in pieces.enumerated() {
            let text = index == 0 ? (piece.isEmpty ? "" : " " + piece) : piece
            if index > 0, lineLength + text.count > Self.preferredLineLength {
                output += "\r\n"
                lineLength = 0
            }
            output += text
            lineLength += text.count
        }
        return output + "\r\n"
    }

    private static func refuseLineBreaks(in text: String, field: String) throws(MailEncodingError) {
        if text.utf8.contains(where: { $0 == UInt8(ascii: "\r") || $0 == UInt8(ascii: "\n") }) {
            throw .lineBreakInHeader(field: field)
        }
    }

    /// The display name as a phrase: bare atoms when it is made of them, a quoted string when it
    /// is short printable ASCII, encoded-words otherwise.
    private static func phrase(_ displayName: String) -> [String] {
        if isPrintableASCII(displayName), !displayName.contains("=?") {
            let atoms = displayName.split(separator: " ", omittingEmptySubsequences: false)
            if atoms.allSatisfy({ !$0.isEmpty && $0.utf8.allSatisfy(AddressSpec.isAtomCharacter) }) {
                return spaced(atoms.map(String.init))
            }
            if displayName.count <= longestQuotedName {
                let escaped = displayName.replacingOccurrences(of: "\\", with: "\\\\")
                    .replacingOccurrences(of: "\"", with: "\\\"")
                return ["\"\(escaped)\""]
            }
        }
        return spaced(EncodedWord.words(for: displayName))
    }

    /// The words of `text` as foldable pieces when it can go as plain ASCII, nil when it must be
    /// encoded: non-ASCII or control characters, text a decoder would take for an encoded-word,
    /// edge whitespace (which unfolding would lose), or a word too long to fold.
    private static func foldableWords(_ text: String) -> [String]? {
        guard isPrintableASCII(text), !text.contains("=?"),
              !text.hasPrefix(" "), !text.hasSuffix(" ")
        else { return nil }
        let words = text.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
        guard words.allSatisfy({ $0.count <= longestUnfoldableWord }) else { return nil }
        var pieces: [String] = []
        var pendingSpaces = ""
        for (index, word) in words.enumerated() {
            if index == 0 {
                pieces.append(word)
            } else if word.isEmpty {
                // A run of spaces: a fold cannot leave a line of whitespace only, so the extra
                // spaces travel with the next word.
                pendingSpaces += " "
            } else {
                pieces.append(" " + pendingSpaces + word)
                pendingSpaces = ""
            }
        }
        return pieces
    }

    private static func spaced(_ words: [String]) -> [String] {
        words.enumerated().map { index, word in index == 0 ? word : " " + word }
    }

    private static func isPrintableASCII(_ text: String) -> Bool {
        text.utf8.allSatisfy { (0x20...0x7E).contains($0) }
    }
}
