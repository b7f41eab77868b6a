import Mail
import Testing

@Suite("Mail messages")
struct MailMessageTests {
    @Test("a message keeps its recipients")
    func keepsRecipients() {
        let message = MailMessage(messageID: "m1@agora.local", from: MailAddress("agora@agora.local"),
                                  to: [MailAddress("a@example.com", name: "김민수")], subject: "s", text: "t")
        #expect(message.to.map(\.address) == ["a@example.com"])
    }
}
