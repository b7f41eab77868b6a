import Foundation
@testable import Mail
import Testing

/// A message with the parts a test cares about set, the rest filled in.
func testMessage(
    subject: String = "Welcome", text: String = "Hello.\n", fromName: String? = "Agora",
    to: [MailAddress] = [MailAddress("minsu@example.com", name: "Minsu")], messageID: String = "job-42@agora.local"
) -> MailMessage {
    MailMessage(messageID: messageID, from: MailAddress("agora@agora.local", name: fromName), to: to,
                subject: subject, text: text, date: Date(timeIntervalSince1970: 1_767_225_600))
}

@Suite("MIME rendering")
struct MIMERenderingTests {
    @Test("a message has the RFC 5322 and MIME headers, CRLF line ends and only 7-bit bytes")
    func headers() throws {
        let bytes = try testMessage().rendered()
        let mail = RenderedMail(bytes)
        #expect(mail.headers["date"] == "Thu, 1 Jan 2026 00:00:00 +0000")
        #expect(mail.headers["from"] == "Agora <agora@agora.local>")
        #expect(mail.headers["to"] == "Minsu <minsu@example.com>")
        #expect(mail.headers["subject"] == "Welcome")
        #expect(mail.headers["message-id"] == "<job-42@agora.local>")
        #expect(mail.headers["mime-version"] == "1.0")
        #expect(mail.headers["content-type"] == "text/plain; charset=utf-8")
        #expect(mail.contentTransferEncoding == "7bit")
        #expect(bytes.allSatisfy { $0 < 0x80 })
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(!text.replacingOccurrences(of: "\r\n", with: "").contains("\n"))
        #expect(!text.replacingOccurrences(of: "\r\n", with: "").contains("\r"))
        #expect(text.hasSuffix("\r\n\r\nHello.\r\n"))
    }

    @Test("a Korean nickname, subject and body with emoji come back exactly after decoding")
    func koreanRoundTrip() throws {
        let message = testMessage(
            subject: "아고라에 오신 것을 환영합니다, 김민수님! 🎉 비밀번호를 재설정하려면 아래 링크를 누르세요",
            text: "안녕하세요, 김민수님 👋\n\n아고라 계정의 비밀번호 재설정을 요청하셨습니다.\n가족 이모지: 👨‍👩‍👧‍👦\n",
            fromName: "아고라 운영팀",
            to: [MailAddress("minsu@example.com", name: "김민수")])
        let mail = RenderedMail(try message.rendered())
        #expect(mail.decodedHeader("Subject") == message.subject)
        #expect(RenderedMail.decodeEncodedWords(mail.headers["to"]!) == "김민수 <minsu@example.com>")
        #expect(RenderedMail.decodeEncodedWords(mail.headers["from"]!) == "아고라 운영팀 <agora@agora.local>")
        #expect(mail.contentTransferEncoding == "base64")
        #expect(mail.decodedBody == message.text)
    }

    @Test("encoded-words are at most 75 characters and each decodes to whole UTF-8 characters")
    func encodedWordsKeepCharactersWhole() throws {
        let subject = String(repeating: "가나다라마바사 🎉👨‍👩‍👧‍👦 ", count: 12)
        let mail = RenderedMail(try testMessage(subject: subject).rendered())
        let words = mail.headers["subject"]!.split(separator: " ")
        #expect(words.count > 5)
        for word in words {
            #expect(word.count <= 75)
            let payload = word.dropFirst("=?UTF-8?B?".count).dropLast(2)
            let bytes = try #require(Data(base64Encoded: String(payload)))
            #expect(String(data: bytes, encoding: .utf8) != nil, "\(word) splits a UTF-8 sequence")
        }
        #expect(mail.decodedHeader("subject") == subject)
    }

    @Test("long headers are folded into lines of at most 78 characters")
    func longHeadersAreFolded() throws {
        let subject = (1...30).map { "word\($0)" }.joined(separator: " ")
        let recipients = (1...6).map { MailAddress("member\($0)@example.com", name: "회원 \($0)") }
        let mail = RenderedMail(try testMessage(subject: subject, to: recipients).rendered())
        #expect(mail.headerLines.allSatisfy { $0.count <= 78 })
        #expect(mail.headerLines.filter { $0.hasPrefix(" ") }.count >= 3)
        #expect(mail.headers["subject"] == subject)
        #expect(RenderedMail.decodeEncodedWords(mail.headers["to"]!)
            == recipients.map { "\($0.name!) <\($0.address)>" }.joined(separator: ", "))
    }

    @Test("display names with specials are quoted, plain ones are not")
    func displayNameQuoting() throws {
        let to = [
            MailAddress("a@example.com", name: "Kim, Minsu"),
            MailAddress("b@example.com", name: "Say \"hi\" \\ bye"),
            MailAddress("c@example.com", name: "Plain Name"),
            MailAddress("d@example.com"),
        ]
        let mail = RenderedMail(try testMessage(to: to).rendered())
        #expect(mail.headers["to"] == #""Kim, Minsu" <a@example.com>, "Say \"hi\" \\ bye" <b@example.com>, Plain Name <c@example.com>, d@example.com"#)
    }

    @Test("an ASCII subject that looks like an encoded-word is encoded, so it reads back literally")
    func encodedWordLookalike() throws {
        let subject = "=?UTF-8?B?aGk=?= is not a greeting"
        let mail = RenderedMail(try testMessage(subject: subject).rendered())
        #expect(mail.headers["subject"]!.hasPrefix("=?UTF-8?B?"))
        #expect(mail.decodedHeader("subject") == subject)
    }

    @Test("line ends of any kind become CRLF and a missing final line break is added")
    func lineEnds() throws {
        let mail = RenderedMail(try testMessage(text: "one\r\ntwo\rthree\nfour").rendered())
        #expect(mail.bodyLines == ["one", "two", "three", "four"])
        #expect(mail.decodedBody == "one\ntwo\nthree\nfour\n")
    }
}

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

@Suite("Base64 bodies")
struct Base64BodyTests {
    @Test("base64 lines are 76 characters except the last, and decode to the text with CRLF")
    func wrapping() throws {
        let text = String(repeating: "한국어 본문입니다. ", count: 40) + "\n"
        let mail = RenderedMail(try testMessage(text: text).rendered())
        #expect(mail.contentTransferEncoding == "base64")
        #expect(mail.bodyLines.count > 2)
        #expect(mail.bodyLines.dropLast().allSatisfy { $0.count == 76 })
        #expect(mail.bodyLines.last!.count <= 76)
        #expect(mail.decodedBody == text)
    }
}

@Suite("Header injection")
struct HeaderInjectionTests {
    @Test("a line break in the subject is refused", arguments: ["Hi\r\nBcc: victim@example.com", "Hi\nX: y", "Hi\r"])
    func subject(_ subject: String) {
        #expect(throws: MailEncodingError.lineBreakInHeader(field: "Subject")) {
            try testMessage(subject: subject).rendered()
        }
    }

    @Test("a line break in a display name is refused")
    func displayName() {
        #expect(throws: MailEncodingError.lineBreakInHeader(field: "To display name")) {
            try testMessage(to: [MailAddress("a@example.com", name: "Eve\r\nBcc: x@example.com")]).rendered()
        }
        #expect(throws: MailEncodingError.lineBreakInHeader(field: "From display name")) {
            try testMessage(fromName: "Eve\nX: y").rendered()
        }
    }

    @Test("a line break in an address or the Message-ID is refused")
    func addressAndMessageID() {
        #expect(throws: MailEncodingError.lineBreakInHeader(field: "address")) {
            try testMessage(to: [MailAddress("a@example.com\r\nBcc: x@example.com")]).rendered()
        }
        #expect(throws: MailEncodingError.lineBreakInHeader(field: "Message-ID")) {
            try testMessage(messageID: "x@y\r\nBcc: z@example.com").rendered()
        }
    }

    @Test("non-ASCII or malformed addresses are refused", arguments: [
        "김민수@example.com", "minsu@예시.kr", "no-at-sign", "@example.com", "a@", "a b@example.com",
        "a..b@example.com", ".a@example.com", "a@-example.com", "a@exa_mple.com", "<a@example.com>", "a@b@example.com",
    ])
    func malformedAddress(_ address: String) {
        #expect(throws: MailEncodingError.invalidAddress(address)) {
            try testMessage(to: [MailAddress(address)]).rendered()
        }
    }

    @Test("ordinary addresses are accepted", arguments: [
        "minsu@example.com", "first.last+tag@mail.example.co.kr", "o'brien@example.com", "root@[127.0.0.1]", "a@localhost",
    ])
    func validAddress(_ address: String) throws {
        _ = try testMessage(to: [MailAddress(address)]).rendered()
    }

    @Test("a message without recipients or with an unusable Message-ID is refused, permanently")
    func structure() {
        #expect(throws: MailEncodingError.noRecipients) { try testMessage(to: []).rendered() }
        #expect(throws: MailEncodingError.invalidMessageID("a b@c")) { try testMessage(messageID: "a b@c").rendered() }
        #expect(throws: MailEncodingError.invalidMessageID("<x@y>")) { try testMessage(messageID: "<x@y>").rendered() }
        #expect(MailEncodingError.noRecipients.isPermanent)
    }
}
