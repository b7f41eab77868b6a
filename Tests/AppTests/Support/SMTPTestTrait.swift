import SMTPTestSupport
import Testing

extension Trait where Self == ConditionTrait {
    /// Runs the suite only where the SMTP test server can run (always on CI).
    static var needsSMTPTestServer: Self {
        .enabled("needs python3 with aiosmtpd (pip install aiosmtpd)") {
            await SMTPTestEnvironment.shouldRun()
        }
    }
}
