import Foundation
import Mail
import Testing

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
