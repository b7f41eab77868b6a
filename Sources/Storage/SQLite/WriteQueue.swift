import SQLKit
import Synchronization

/// One transaction body waiting for the SQLite writer, and the place its outcome is delivered.
final class PendingWrite: Sendable {
    let body: @Sendable (any SQLDatabase) async throws -> any Sendable
    private let state = Mutex<State>(.waiting(nil))

    private enum State {
        case waiting(CheckedContinuation<any Sendable, any Error>?)
        case done(Result<any Sendable, any Error>)
    }

    init(body: @escaping @Sendable (any SQLDatabase) async throws -> any Sendable) {
        self.body = body
    }

    /// Delivers the outcome; called once, after the batch holding this write committed (or failed).
    func complete(_ result: Result<any Sendable, any Error>) {
        let waiter = state.withLock { state -> CheckedContinuation<any Sendable, any Error>? in
            guard case .waiting(let waiter) = state else { return nil }
            state = .done(result)
            return waiter
        }
        waiter?.resume(with: result)
    }

    /// Waits for the outcome.
    func outcome() async throws -> any Sendable {
        try await withCheckedThrowingContinuation { continuation in
            let ready = state.withLock { state -> Result<any Sendable, any Error>? in
                switch state {
                case .waiting: state = .waiting(continuation); return nil
                case .done(let result): return result
                }
            }
            if let ready { continuation.resume(with: ready) }
        }
    }
}

/// The single-consumer queue in front of the SQLite writer: callers add writes; the writer takes
/// everything waiting at once, so concurrent transactions share one commit (group commit).
final class WriteQueue: Sendable {
    private struct State {
        var pending: [PendingWrite] = []
        var consumer: CheckedContinuation<Void, Never>?
        var closed = false
    }
    private let state = Mutex(State())

    /// Adds a write; returns false once the queue is closed.
    func submit(_ write: PendingWrite) -> Bool {
        let (accepted, consumer) = state.withLock { state -> (Bool, CheckedContinuation<Void, Never>?) in
            guard !state.closed else { return (false, nil) }
            state.pending.append(write)
            let consumer = state.consumer
            state.consumer = nil
            return (true, consumer)
        }
        consumer?.resume()
        return accepted
    }

    /// Up to `limit` waiting writes, oldest first; waits while there are none. Empty once closed and drained.
    func next(limit: Int) async -> [PendingWrite] {
        while true {
            let batch = state.withLock { state -> [PendingWrite]? in
                if !state.pending.isEmpty {
                    let batch = Array(state.pending.prefix(limit))
                    state.pending.removeFirst(batch.count)
                    return batch
                }
                return state.closed ? [] : nil
            }
            if let batch { return batch }
            await withCheckedContinuation { continuation in
                let resumeNow = state.withLock { state -> Bool in
                    if !state.pending.isEmpty || state.closed { return true }
                    state.consumer = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        }
    }

    /// Refuses new writes; the consumer still drains what was accepted.
    func close() {
        let consumer = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.closed = true
            let consumer = state.consumer
            state.consumer = nil
            return consumer
        }
        consumer?.resume()
    }
}
