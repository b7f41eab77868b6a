import Queue

/// A request for a one-time code by email address (a resend, a forgotten password). The request
/// is queued whether or not the account exists, so the answer and its timing reveal nothing; the
/// job issues the code and its mail only for a real account that needs one.
public struct AccountCodeRequestJob: Job {
    public static let name = "account.code-request"
    public var email: String
    public var purpose: AccountCodePurpose

    public init(email: String, purpose: AccountCodePurpose) {
        self.email = email
        self.purpose = purpose
    }

    static func register(in registry: JobRegistry, service: AccountCodeService) {
        registry.register(AccountCodeRequestJob.self, queue: SendMailJob.queue, maxAttempts: 10) { job, context in
            try await service.fulfil(job, requestKey: context.idempotencyKey)
        }
    }
}
