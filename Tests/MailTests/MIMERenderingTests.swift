import Foundation
@testable import Mail
import Testing

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
