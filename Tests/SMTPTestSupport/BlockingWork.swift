import Dispatch

/// Runs blocking work (waiting for a process, reading a pipe) on a dedicated dispatch queue, so
/// it never occupies one of Swift's cooperative threads, and awaits its result.
public enum BlockingWork {
    private static let queue = DispatchQueue(label: "mail-tests.blocking", attributes: .concurrent)

    public static func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async {
                continuation.resume(with: Result { try work() })
            }
        }
    }
}
