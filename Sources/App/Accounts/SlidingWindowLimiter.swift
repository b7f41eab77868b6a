import Foundation
import Synchronization

/// Allows at most `limit` events per key within a sliding `window`, and says how long to wait
/// past it. Held in memory: one process sees its own share (several instances each count theirs).
public final class SlidingWindowLimiter: Sendable {
    private let limit: Int
    private let window: TimeInterval
    private let events = Mutex<[String: [Date]]>([:])

    public init(limit: Int, window: Duration) {
        self.limit = limit
        self.window = TimeInterval(window.components.seconds) + TimeInterval(window.components.attoseconds) / 1e18
    }

    /// The seconds to wait before `key` may act again, or nil when it may act now.
    public func wait(for key: String, now: Date = Date()) -> Int? {
        events.withLock { table in
            let recent = (table[key] ?? []).filter { now.timeIntervalSince($0) < window }
            table[key] = recent.isEmpty ? nil : recent
            guard recent.count >= limit, let oldest = recent.first else { return nil }
            return max(1, Int((window - now.timeIntervalSince(oldest)).rounded(.up)))
        }
    }

    /// Counts one event of `key`.
    public func record(_ key: String, now: Date = Date()) {
        events.withLock { table in
            if table.count > 100_000 { table = table.filter { $0.value.last.map { now.timeIntervalSince($0) < window } ?? false } }
            table[key, default: []].append(now)
        }
    }

    /// Forgets every event of `key`.
    public func reset(_ key: String) {
        _ = events.withLock { $0.removeValue(forKey: key) }
    }
}
