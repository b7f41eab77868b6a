import Storage

/// When a failed job runs again: exponential backoff with jitter, capped.
public struct RetryPolicy: Sendable, Hashable {
    /// The wait after the first failure.
    public var base: Duration
    /// The longest wait.
    public var maximum: Duration
    /// Each wait is drawn from `[wait × (1 − jitter), wait × (1 + jitter)]`, so jobs that failed
    /// together do not come back together.
    public var jitter: Double

    public init(base: Duration = .seconds(1), maximum: Duration = .seconds(3600), jitter: Double = 0.2) {
        precondition(jitter >= 0 && jitter < 1, "jitter is a fraction below 1")
        self.base = base
        self.maximum = maximum
        self.jitter = jitter
    }

    public static let `default` = RetryPolicy()

    /// The wait after failed execution number `attempt` (1-based): base × 2^(attempt − 1), capped, jittered.
    public func delay(afterAttempt attempt: Int) -> Duration {
        let exponent = min(max(attempt - 1, 0), 40)
        let baseMillis = Double(base.components.seconds) * 1000 + Double(base.components.attoseconds) / 1e15
        let maxMillis = Double(maximum.components.seconds) * 1000 + Double(maximum.components.attoseconds) / 1e15
        let wait = min(baseMillis * Double(1 << exponent), maxMillis)
        let jittered = jitter > 0 ? wait * Double.random(in: (1 - jitter)...(1 + jitter)) : wait
        return .milliseconds(Int64(jittered.rounded()))
    }
}
