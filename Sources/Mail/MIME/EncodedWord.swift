import Foundation

/// RFC 2047 encoded-words (`=?UTF-8?B?...?=`): how a header carries text that is not ASCII.
///
/// Hand-written: Foundation and the packages Agora uses have no MIME header encoder.
enum EncodedWord {
    /// The longest encoded-word this encoder makes, 64 characters: short enough that the first one
    /// fits after `Subject: ` within RFC 5322's 78-character line, and well under RFC 2047's 75.
    static let maximumLength = 64

    private static let prefix = "=?UTF-8?B?"
    private static let suffix = "?="
    /// UTF-8 bytes per word: base64 turns 3 bytes into 4 characters.
    private static let bytesPerWord = (maximumLength - prefix.count - suffix.count) / 4 * 3

    /// Encodes `text` as consecutive B-encoded words, each at most `maximumLength` characters.
    ///
    /// A word ends on a character boundary where it can (on a Unicode scalar boundary where one
    /// character alone is too long, as some emoji sequences are), so no word ever splits a UTF-8
    /// sequence. Decoders join adjacent words and drop the whitespace between them, so the words
    /// may be separated by folding whitespace.
    static func words(for text: String) -> [String] {
        var words: [String] = []
        var chunk: [UInt8] = []
        func append(_ bytes: some Collection<UInt8>) {
            if chunk.count + bytes.count > bytesPerWord, !chunk.isEmpty {
                words.append(word(for: chunk))
                chunk.removeAll(keepingCapacity: true)
            }
            chunk.append(contentsOf: bytes)
        }
        for character in text {
            let bytes = Array(String(character).utf8)
            if bytes.count <= bytesPerWord {
                append(bytes)
            } else {
                for scalar in character.unicodeScalars {
                    append(Array(String(scalar).utf8))
                }
            }
        }
        if !chunk.isEmpty || words.isEmpty {
            words.append(word(for: chunk))
        }
        return words
    }

    private static func word(for bytes: [UInt8]) -> String {
        prefix + Data(bytes).base64EncodedString() + suffix
    }
}
