/// The errors services throw: what went wrong in domain terms. `ErrorMiddleware` maps each to a
/// status and a code in one place.
public enum ServiceError: Error, Sendable, Equatable {
    /// Input broke a rule; each problem names its field.
    case validation([FieldProblem])
    /// The named thing does not exist (or the caller may not know that it does).
    case notFound(String)
    /// No valid credentials were presented.
    case unauthorized(String)
    /// The caller is known but may not do this.
    case forbidden
    /// The caller is known but may not do this, for a reason a client acts on (`code` is stable,
    /// e.g. `not_a_member`): answered 403 like `forbidden`.
    case denied(code: String, message: String)
    /// The request conflicts with stored state, such as a taken email (`code` is stable, e.g. `email_taken`).
    case conflict(code: String, message: String)
    /// Too many attempts; retry after the given number of seconds.
    case rateLimited(retryAfterSeconds: Int)
    /// Well-formed input the rules refuse as a whole, such as a wrong or expired code (`code` is stable).
    case rejected(code: String, message: String)
    /// The caller must verify their email address before writing.
    case emailNotVerified
    /// A request body is larger than the limit.
    case tooLarge(limitBytes: Int)

    static func invalid(_ field: String, _ problem: String) -> ServiceError {
        .validation([FieldProblem(field: field, problem: problem)])
    }
}
