import Foundation
import Mail

/// The mails Agora sends about an account, composed from the account and a one-time code.
struct AccountMail: Sendable {
    /// The sender of every mail (`AGORA_MAIL_FROM`).
    let from: MailAddress

    func message(for purpose: AccountCodePurpose, code: String, email: String, nickname: String) -> MailMessage {
        let minutes = Int(AccountCodes.lifetime.components.seconds / 60)
        let subject: String
        let action: String
        switch purpose {
        case .verifyEmail:
            subject = "Your Agora verification code: \(code)"
            action = "To confirm your email address, enter this code in Agora:"
        case .resetPassword:
            subject = "Your Agora password reset code: \(code)"
            action = "To choose a new password, enter this code in Agora:"
        }
        let text = """
            Hello \(nickname),

            \(action)

                \(code)

            The code expires in \(minutes) minutes. If you did not ask for it, ignore this mail.

            — Agora
            """
        return MailMessage(messageID: "\(UUID().uuidString.lowercased())@\(domain)", from: from,
                           to: [MailAddress(email, name: nickname)], subject: subject, text: text)
    }

    private var domain: String {
        from.address.split(separator: "@").last.map(String.init) ?? "agora.local"
    }
}
