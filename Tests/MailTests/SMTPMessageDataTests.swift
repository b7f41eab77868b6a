@testable import Mail
import Testing

@Suite("SMTP dot-stuffing")
struct SMTPMessageDataTests {
    private func stuffed(_ text: String) -> String {
        var buffer = SMTPMessageData.stuffed(Array(text.utf8), allocator: .init())
        return buffer.readString(length: buffer.readableBytes)!
    }

    @Test("lines starting with a dot get a second dot, and the data ends with CRLF . CRLF")
    func stuffing() {
        #expect(stuffed("a\r\n.\r\n..b\r\n.c\r\n") == "a\r\n..\r\n...b\r\n..c\r\n.\r\n")
    }

    @Test("a leading dot on the first line is stuffed too, and a missing final CRLF is added")
    func edges() {
        #expect(stuffed(".first\nlast") == "..first\r\nlast\r\n.\r\n")
    }
}
