import Logging
import Synchronization

/// Acknowledges finished jobs in batches: while one batch is being committed, the next gathers,
/// so a busy worker commits many completions in one transaction and an idle one commits at once.
final class CompletionBatcher: Sendable {
    private struct State {
        var waiting: [(lease: JobLease, done: CheckedContinuation<Void, Never>)] = []
        var flushing = false
    }
    private let state = Mutex(State())
    private let driver: any QueueDriver
    private let logger: Logger

    init(driver: any QueueDriver, logger: Logger) {
        self.driver = driver
        self.logger = logger
    }

    /// Returns once the completion of `lease` is committed (or refused because the lease was lost).
    func complete(_ lease: JobLease) async {
        await withCheckedContinuation { continuation in
            let startFlushing = state.withLock { state -> Bool in
                state.waiting.append((lease, continuation))
                if state.flushing { return false }
                state.flushing = true
                return true
            }
            if startFlushing { Task { await self.flush() } }
        }
    }

    private func flush() async {
        while true {
            let batch = state.withLock { state -> [(lease: JobLease, done: CheckedContinuation<Void, Never>)] in
                let batch = state.waiting
                state.waiting.removeAll(keepingCapacity: true)
                if batch.isEmpty { state.flushing = false }
                return batch
            }
            if batch.isEmpty { return }
            do {
                try await driver.complete(batch.map(\.lease))
            } catch {
                // Not recorded: the leases expire and the jobs are rescued and run again.
                logger.error("acknowledging jobs failed", metadata: ["count": "\(batch.count)", "error": "\(error)"])
            }
            for entry in batch { entry.done.resume() }
        }
    }
}
