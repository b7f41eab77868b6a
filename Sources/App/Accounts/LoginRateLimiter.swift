import Foundation

/// Counts failed logins per email and per client address over a sliding window and refuses
/// further attempts past a limit, so a password cannot be guessed by brute force.
public struct LoginRateLimiter: Sendable {
    private let perEmail: SlidingWindowLimiter
    private let perAddress: SlidingWindowLimiter

    public init(maxPerEmail: Int, maxPerAddress: Int, window: Duration) {
        perEmail = SlidingWindowLimiter(limit: maxPerEmail, window: window)
        perAddress = SlidingWindowLimiter(limit: maxPerAddress, window: window)
    }

    /// Throws `rateLimited` when either key has used up its failures.
    public func checkAllowed(email: String, address: String?, now: Date = Date()) throws {
        let waits = [perEmail.wait(for: email, now: now), address.flatMap { perAddress.wait(for: $0, now: now) }]
        if let wait = waits.compactMap({ $0 }).max() {
            throw ServiceError.rateLimited(retryAfterSeconds: wait)
        }
    }

    public func recordFailure(email: String, address: String?, now: Date = Date()) {
        perEmail.record(email, now: now)
        if let address { perAddress.record(address, now: now) }
    }

    /// A successful login clears the email's failures (not the address's: one address may try many emails).
    public func recordSuccess(email: String) {
        perEmail.reset(email)
    }
}
