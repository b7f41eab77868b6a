import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// One line from the benchmark's worker process to the benchmark, and its parsing.
enum QueueBenchWorkerLine: Equatable {
    case ready
    case drained(atNanos: UInt64)
    case pickup(sample: Int, enqueuedAtNanos: UInt64, startedAtNanos: UInt64)
    case summary(executed: Int, lost: Int, duplicates: Int)

    var text: String {
        switch self {
        case .ready: "ready"
        case .drained(let at): "drained \(at)"
        case .pickup(let sample, let enqueued, let started): "pickup \(sample) \(enqueued) \(started)"
        case .summary(let executed, let lost, let duplicates): "summary \(executed) \(lost) \(duplicates)"
        }
    }

    init?(_ line: Substring) {
        let words = line.split(separator: " ")
        guard let first = words.first else { return nil }
        let numbers = words.dropFirst().compactMap { UInt64($0) }
        guard numbers.count == words.count - 1 else { return nil }
        switch (first, numbers.count) {
        case ("ready", 0): self = .ready
        case ("drained", 1): self = .drained(atNanos: numbers[0])
        case ("pickup", 3): self = .pickup(sample: Int(numbers[0]), enqueuedAtNanos: numbers[1], startedAtNanos: numbers[2])
        case ("summary", 3): self = .summary(executed: Int(numbers[0]), lost: Int(numbers[1]), duplicates: Int(numbers[2]))
        default: return nil
        }
    }
}

/// Writes whole lines to standard output with one `write` each: unbuffered (a pipe would
/// otherwise hold them) and never interleaved between threads.
final class LineWriter: Sendable {
    private let lock = Mutex(())

    func write(_ line: QueueBenchWorkerLine) {
        let bytes = Array((line.text + "\n").utf8)
        lock.withLock { _ in
            var offset = 0
            while offset < bytes.count {
                let written = bytes[offset...].withUnsafeBytes { Glibc.write(1, $0.baseAddress, $0.count) }
                if written <= 0 { return }
                offset += written
            }
        }
    }
}

/// `CLOCK_MONOTONIC` in nanoseconds: one clock for every process of a Linux machine, so a time
/// taken in one process can be subtracted from one taken in another.
func monotonicNanos() -> UInt64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
}
