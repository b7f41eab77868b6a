import Mail
import Testing

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
