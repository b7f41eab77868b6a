import Synchronization

/// Tells idle workers in this process that jobs arrived in their queue, so an enqueue is picked up
/// at once; between processes, workers fall back to polling (or the engine's notifications).
///
/// Written by hand: a per-queue wake-up with a deadline, which no available package provides.
/// A wait is one continuation and one timer task, cancelled when the wait ends early: the pickup
/// latency of an idle worker is this path.
public final class JobArrivals: Sendable {
    private struct Waiter {
        let id: UInt64
        let continuation: CheckedContinuation<Void, Never>
        var timer: Task<Void, Never>?
    }
    private struct State {
        var waiters: [String: [Waiter]] = [:]
        /// Queues signalled while none of their workers waited: the next wait returns at once.
        var signalled: Set<String> = []
        var nextID: UInt64 = 0
    }
    private let state = Mutex(State())

    public init() {}

    /// Wakes every worker waiting on any of `queues`; if none waits on one, its next wait returns at once.
    public func signal(_ queues: some Sequence<String>) {
        let woken = state.withLock { state -> [Waiter] in
            var woken: [Waiter] = []
            for queue in queues {
                if let waiters = state.waiters.removeValue(forKey: queue), !waiters.isEmpty {
                    woken += waiters
                } else {
                    state.signalled.insert(queue)
                }
            }
            return woken
        }
        for waiter in woken {
            waiter.timer?.cancel()
            waiter.continuation.resume()
        }
    }

    /// Returns when `queue` is signalled, after `timeout`, or when the task is cancelled.
    public func wait(for queue: String, timeout: Duration) async {
        let id = state.withLock { state -> UInt64 in
            state.nextID += 1
            return state.nextID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let registered = state.withLock { state -> Bool in
                    if state.signalled.remove(queue) != nil { return false }
                    state.waiters[queue, default: []].append(Waiter(id: id, continuation: continuation))
                    return true
                }
                guard registered else { return continuation.resume() }
                let timer = Task {
                    try? await Task.sleep(for: timeout)
                    if !Task.isCancelled { self.end(id, queue: queue) }
                }
                let stillWaiting = state.withLock { state -> Bool in
                    guard let index = state.waiters[queue]?.firstIndex(where: { $0.id == id }) else { return false }
                    state.waiters[queue]?[index].timer = timer
                    return true
                }
                if !stillWaiting { timer.cancel() }
            }
        } onCancel: {
            self.end(id, queue: queue)
        }
    }

    /// Ends one wait early (its deadline passed, or its task was cancelled).
    private func end(_ id: UInt64, queue: String) {
        let waiter = state.withLock { state -> Waiter? in
            guard let index = state.waiters[queue]?.firstIndex(where: { $0.id == id }) else { return nil }
            return state.waiters[queue]?.remove(at: index)
        }
        waiter?.timer?.cancel()
        waiter?.continuation.resume()
    }
}
