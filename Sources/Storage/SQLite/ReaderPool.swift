import DequeModule
import SQLiteNIO
import Synchronization

/// The reader connections, each lent to one read at a time.
///
/// Statements running together on one SQLite connection share its read transaction, so a read
/// that started beside an older statement would see that statement's snapshot: it could miss a
/// commit whose caller has already been told of it (a login right after its sign-up's 201 found
/// no account). Lending each connection to a single read keeps every read's first statement on
/// the latest commit. Reads beyond the connection count wait, first come first served.
final class ReaderPool: Sendable {
    private struct State {
        var idle: [SQLiteConnection]
        var waiters: Deque<CheckedContinuation<SQLiteConnection, Never>> = []
    }

    let connections: [SQLiteConnection]
    private let state: Mutex<State>

    init(_ connections: [SQLiteConnection]) {
        precondition(!connections.isEmpty, "a reader pool needs a connection")
        self.connections = connections
        self.state = Mutex(State(idle: connections))
    }

    /// Runs `body` with a connection no other read is using.
    func withConnection<T>(_ body: (SQLiteConnection) async throws -> T) async throws -> T {
        let connection = await take()
        defer { give(connection) }
        return try await body(connection)
    }

    private func take() async -> SQLiteConnection {
        if let connection = state.withLock({ $0.idle.popLast() }) { return connection }
        return await withCheckedContinuation { continuation in
            let connection = state.withLock { state -> SQLiteConnection? in
                if let connection = state.idle.popLast() { return connection }
                state.waiters.append(continuation)
                return nil
            }
            if let connection { continuation.resume(returning: connection) }
        }
    }

    private func give(_ connection: SQLiteConnection) {
        let waiter = state.withLock { state -> CheckedContinuation<SQLiteConnection, Never>? in
            if let waiter = state.waiters.popFirst() { return waiter }
            state.idle.append(connection)
            return nil
        }
        waiter?.resume(returning: connection)
    }
}
