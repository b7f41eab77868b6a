@testable import Mail
import Testing

@Suite("Quoted-printable bodies")
struct QuotedPrintableTests {
    private func encode(_ lines: [String]) -> [String] {
        let encoded = QuotedPrintable.encode(lines: lines.map { Array($0.utf8)[...] })
        return String(decoding: encoded, as: UTF8.self).components(separatedBy: "\r\n").dropLast()
    }

    @Test("mostly-ASCII text with a few accents goes quoted-printable")
    func chosenForMostlyASCII() throws {
        let text = "Bonjour, votre mot de passe a été changé. Si ce n'était pas vous, écrivez-nous.\n"
        let mail = RenderedMail(try testMessage(text: text).rendered())
        #expect(mail.contentTransferEncoding == "quoted-printable")
        #expect(mail.decodedBody == text)
    }

    @Test("= is escaped as =3D and non-ASCII bytes as uppercase =XX")
    func escaping() {
        #expect(encode(["a=b é"]) == ["a=3Db =C3=A9"])
    }

    @Test("trailing spaces and tabs are encoded; inner ones are not")
    func trailingWhitespace() {
        #expect(encode(["end with space ", "tab\t", "in side"]) == ["end with space=20", "tab=09", "in side"])
    }

    @Test("long lines get soft line breaks, no line exceeds 76 characters and no escape is cut")
    func softLineBreaks() {
        let line = String(repeating: "abcdefghé", count: 30)
        let encoded = encode([line])
        #expect(encoded.count > 1)
        #expect(encoded.allSatisfy { $0.count <= 76 })
        #expect(encoded.dropLast().allSatisfy { $0.hasSuffix("=") })
        for encodedLine in encoded {
            // An escape cut by a soft break would leave `=X=` or `==` before the break.
            #expect(!encodedLine.dropLast().hasSuffix("="))
        }
        let decoded = RenderedMail.decodeQuotedPrintable(encoded.joined(separator: "\r\n") + "\r\n")
        #expect(String(decoding: decoded, as: UTF8.self) == line + "\r\n")
    }

    @Test("a 7bit body needs printable ASCII, short lines and no trailing whitespace")
    func sevenBitRules() {
        func choice(_ lines: [String]) -> ContentTransferEncoding {
            ContentTransferEncoding.choose(for: lines.map { Array($0.utf8)[...] })
        }
        #expect(choice(["Hello", "", "Bye"]) == .sevenBit)
        #expect(choice(["trailing "]) == .quotedPrintable)
        #expect(choice([String(repeating: "x", count: 79)]) == .quotedPrintable)
        #expect(choice(["안녕하세요 반갑습니다"]) == .base64)
    }
}
