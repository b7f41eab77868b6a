@testable import Mail
import Testing

@Suite("SMTP reply parsing")
struct SMTPReplyParserTests {
    private func parse(_ chunks: [String]) throws -> [SMTPReply] {
        var parser = SMTPReplyParser()
        return try chunks.flatMap { try parser.parse(Array($0.utf8)) }
    }

    @Test("a multi-line reply is one reply with all its lines")
    func multiLine() throws {
        let replies = try parse(["250-mail.example.com\r\n250-SIZE 1000\r\n250-AUTH PLAIN LOGIN\r\n250 STARTTLS\r\n"])
        #expect(replies == [SMTPReply(code: 250, lines: ["mail.example.com", "SIZE 1000", "AUTH PLAIN LOGIN", "STARTTLS"])])
    }

    @Test("replies split across reads and several in one read are both found")
    func framing() throws {
        let replies = try parse(["22", "0 hello\r", "\n250 ok\r\n354 go", " ahead\r\n"])
        #expect(replies.map(\.code) == [220, 250, 354])
        #expect(replies.last?.lines == ["go ahead"])
    }

    @Test("a bare code and LF-only line ends are accepted")
    func lenientLines() throws {
        #expect(try parse(["250\n"]) == [SMTPReply(code: 250, lines: [""])])
    }

    @Test("the enhanced status code is read from the first line")
    func enhancedCode() throws {
        #expect(try parse(["535 5.7.8 Authentication credentials invalid\r\n"]).first?.enhancedCode == "5.7.8")
        #expect(try parse(["250 OK\r\n"]).first?.enhancedCode == nil)
    }

    @Test("lines that are not replies end the connection", arguments: ["hello\r\n", "2x0 ok\r\n", "250+ok\r\n", "150 ok\r\n"])
    func malformed(_ line: String) {
        #expect(throws: SMTPProtocolViolation.self) { try parse([line]) }
    }

    @Test("a multi-line reply that changes its code is refused")
    func mixedCodes() {
        #expect(throws: SMTPProtocolViolation.self) { try parse(["250-a\r\n251 b\r\n"]) }
    }

    @Test("unfinished input is reported, so plaintext after STARTTLS can be refused")
    func unfinishedInput() throws {
        var parser = SMTPReplyParser()
        _ = try parser.parse(Array("220 go ahead\r\n250 inj".utf8))
        #expect(parser.hasUnfinishedInput)
    }

    @Test("EHLO capabilities are read, keywords in any case")
    func capabilities() throws {
        let reply = try #require(try parse(["250-mx\r\n250-size 35882577\r\n250-8BITMIME\r\n250-AUTH=LOGIN\r\n250-AUTH PLAIN\r\n250-SMTPUTF8\r\n250 starttls\r\n"]).first)
        let capabilities = SMTPCapabilities(ehloReply: reply)
        #expect(capabilities.supportsStartTLS)
        #expect(capabilities.authenticationMechanisms == ["PLAIN", "LOGIN"])
        #expect(capabilities.maximumMessageSize == 35_882_577)
        #expect(capabilities.supports8BitMIME)
        #expect(capabilities.supportsSMTPUTF8)
        #expect(SMTPAuthentication(offered: capabilities.authenticationMechanisms) == .plain)
        #expect(SMTPAuthentication(offered: ["LOGIN", "CRAM-MD5"]) == .login)
        #expect(SMTPAuthentication(offered: ["XOAUTH2"]) == nil)
    }
}
