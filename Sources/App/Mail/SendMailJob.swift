import Mail
import Queue

/// Delivers one composed mail through the configured transport. The message, its Message-ID
/// included, is fixed when the job is enqueued, so every attempt sends the same mail.
///
/// A transient failure (an SMTP 4xx reply, a timeout, a refused connection) is retried with
/// backoff; a permanent one (an SMTP 5xx reply, an unencodable message) makes the job dead at once.
public struct SendMailJob: Job {
    public static let name = "mail.send"
    public static let queue = "mail"
    public var message: MailMessage

    public init(message: MailMessage) {
        self.message = message
    }

    static func register(in registry: JobRegistry, transport: any MailTransport, retry: RetryPolicy) {
        registry.register(SendMailJob.self, queue: queue, maxAttempts: 12, retry: retry) { job, _ in
            do {
                try await transport.send(job.message)
            } catch let error as any MailDeliveryError where error.isPermanent {
                throw JobCannotSucceed(error)
            }
        }
    }
}
