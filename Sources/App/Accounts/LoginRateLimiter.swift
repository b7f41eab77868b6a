import Foundation
import Synchronization

/// Counts failed logins per email and per client address over a sliding window and refuses
/// further attempts past a limit, so a password cannot be guessed by brute force.
///
/// Held in memory: one process sees all its logins. (Several instances each count their own share.)
public final class LoginRateLimiter: Sendable {
    private let maxPerEmail: Int
    private let maxPerAddress: Int
    private let window: TimeInterval
    private let failures = Mutex<[String: [Date]]>([:])

    public init(maxPerEmail: Int, maxPerAddress: Int, window: Duration) {
        self.maxPerEmail = maxPerEmail
        self.maxPerAddress = maxPerAddress
        self.window = TimeInterval(window.components.seconds)
    }

    /// Throws `rateLimited` when either key has used up its failures.
    public func checkAllowed(email: String, address: String?, now: Date = Date()) throws {
        let waits = failures.withLock { table -> [TimeInterval] in
            var waits: [TimeInterval] = []
            for (key, limit) in keys(email: email, address: address) {
                let recent = (table[key] ?? []).filter { now.timeIntervalSince($0) < window }
                table[key] = recent.isEmpty ? nil : recent
                if recent.count >= limit, let oldest = recent.first {
                    waits.append(window - now.timeIntervalSince(oldest))
                }
            }
            return waits
        }
        if let wait = waits.max() {
            throw ServiceError.rateLimited(retryAfterSeconds: max(1, Int(wait.rounded(.up))))
        }
    }

    public func recordFailure(email: String, address: String?, now: Date = Date()) {
        failures.withLock { table in
            if table.count > 100_000 { table = table.filter { $0.value.last.map { now.timeIntervalSince($0) < window } ?? false } }
            for (key, _) in keys(email: email, address: address) {
                table[key, default: []].append(now)
            }
        }
    }

    /// A successful login clears the email's failures (not the address's: one address may try many emails).
    public func recordSuccess(email: String) {
        _ = failures.withLock { $0.removeValue(forKey: "email:" + email) }
    }

    private func keys(email: String, address: String?) -> [(String, Int)] {
        var keys = [("email:" + email, maxPerEmail)]
        if let address { keys.append(("address:" + address, maxPerAddress)) }
        return keys
    }
}
