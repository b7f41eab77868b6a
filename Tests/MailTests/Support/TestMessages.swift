import Foundation
import Mail

/// A message with the parts a test cares about set, the rest filled in.
func testMessage(
    subject: String = "Welcome", text: String = "Hello.\n", fromName: String? = "Agora",
    to: [MailAddress] = [MailAddress("minsu@example.com", name: "Minsu")], messageID: String = "job-42@agora.local"
) -> MailMessage {
    MailMessage(messageID: messageID, from: MailAddress("agora@agora.local", name: fromName), to: to,
                subject: subject, text: text, date: Date(timeIntervalSince1970: 1_767_225_600))
}
