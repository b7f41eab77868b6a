/// A token bucket: `capacity` actions at once, refilled at `perSecond`. Not thread-safe: each
/// connection's session owns one and uses it from its one reading task.
public struct TokenBucket: Sendable {
    public let capacity: Double
    public let perSecond: Double
    private var tokens: Double
    private var updated: ContinuousClock.Instant

    public init(capacity: Int, perSecond: Double, now: ContinuousClock.Instant = .now) {
        self.capacity = Double(capacity)
        self.perSecond = perSecond
        self.tokens = Double(capacity)
        self.updated = now
    }

    /// Takes a token if there is one.
    public mutating func take(now: ContinuousClock.Instant = .now) -> Bool {
        let elapsed = now - updated
        updated = now
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        tokens = min(capacity, tokens + seconds * perSecond)
        guard tokens >= 1 else { return false }
        tokens -= 1
        return true
    }
}
