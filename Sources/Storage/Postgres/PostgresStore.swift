import Foundation
import Logging
import NIOCore
import PostgresKit
import PostgresNIO
import SQLKit
import Synchronization
import _ConnectionPoolModule

/// Agora on a PostgreSQL server: a pool of connections (PostgresNIO's `PostgresClient`), each
/// lent to one read or one transaction at a time, spoken to through SQLKit (postgres-kit).
///
/// Transactions run at READ COMMITTED. The app's rules that SQLite's single writer made
/// serial (a nickname checked, then taken) are backed by unique indexes; when two transactions
/// collide on one (unique violation), or PostgreSQL breaks a deadlock or a serialization conflict,
/// the loser's body runs again from the start, as `Database.transaction` allows, and then sees
/// the winner's row. A call that gets no connection in time (a server down, a pool exhausted)
/// fails with `DatabaseUnavailable`; after such a failure, or a lost connection, calls fail with it
/// at once (a 503 in a millisecond, not after a wait each) until a probe finds the server
/// answering again. The pool reconnects by itself.
public final class PostgresStore: Database {
    public var engine: DatabaseEngine { .postgres }

    /// How many times a transaction that lost a conflict runs again before its error is returned.
    static let conflictRetries = 5

    public let configuration: PostgresStoreConfiguration
    /// How long a call waits for a pooled connection before it fails with `DatabaseUnavailable`.
    let acquireTimeout: Duration
    private let client: PostgresClient
    private let runTask: Mutex<Task<Void, Never>?>
    private let closed = Atomic<Bool>(false)
    /// Set while the server does not answer: calls fail at once; `probe` clears it.
    private let unreachable = Atomic<Bool>(false)
    private let probing = Atomic<Bool>(false)
    /// The pooled connections seen so far that have not closed, each with what abandons the call it
    /// is lent to now (nil while idle).
    private let lent = Mutex<[PostgresConnection.ID: (@Sendable (DatabaseUnavailable) -> Void)?]>([:])
    public let logger: Logger
    /// NOTIFY delivered to this process (queue wake-ups, chat fan-out across instances).
    public let listener: PostgresListener

    private init(configuration: PostgresStoreConfiguration, client: PostgresClient, listener: PostgresListener,
                 acquireTimeout: Duration, logger: Logger) {
        self.configuration = configuration
        self.acquireTimeout = acquireTimeout
        self.client = client
        self.logger = logger
        self.listener = listener
        self.runTask = Mutex(Task { await client.run() })
    }

    /// Connects to the server at `url` (`postgres://user:password@host:port/database`) and checks
    /// that it answers.
    /// - Parameters:
    ///   - connections: the most connections this process keeps to the server.
    ///   - acquireTimeout: how long a call waits for a connection (all busy, or the server down)
    ///     before failing with `DatabaseUnavailable`.
    public static func open(url: String, connections: Int = 20, acquireTimeout: Duration = .seconds(5),
                            logger: Logger) async throws -> PostgresStore {
        let configuration = try PostgresStoreConfiguration(url: url)
        var options = PostgresClient.Configuration.Options()
        options.maximumConnections = connections
        options.minimumConnections = 0
        options.connectionIdleTimeout = .seconds(60)
        let client = PostgresClient(configuration: configuration.client(options: options), backgroundLogger: logger)
        let listener = PostgresListener(configuration: try configuration.connection(), logger: logger)
        let store = PostgresStore(configuration: configuration, client: client, listener: listener,
                                  acquireTimeout: acquireTimeout, logger: logger)
        do {
            try await store.ping()
        } catch {
            try? await store.close()
            throw error
        }
        return store
    }

    public func read<T: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        try await withConnection { connection in
            try await body(connection.sql(queryLogLevel: .trace))
        }
    }

    public func transaction<T: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        try await retryingConflicts {
            try await self.withConnection { connection in
                let sql = connection.sql(queryLogLevel: .trace)
                try await sql.raw("BEGIN").run()
                do {
                    let value = try await body(sql)
                    try await sql.raw("COMMIT").run()
                    return value
                } catch {
                    do {
                        try await sql.raw("ROLLBACK").run()
                    } catch {
                        self.logger.error("rollback failed", metadata: ["error": "\(String(reflecting: error))"])
                    }
                    throw error
                }
            }
        }
    }

    /// Runs `body` on a pooled connection outside any explicit transaction: each statement commits
    /// by itself. For a write that is one statement (atomic on its own), this is one round trip
    /// where `transaction` takes three (BEGIN, the statement, COMMIT). A statement that lost a
    /// conflict (a deadlock between two batches of updates, a unique key taken meanwhile) rolled
    /// back whole, and `body` runs again, as in `transaction`.
    public func autocommit<T: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        try await retryingConflicts { try await self.read(body) }
    }

    /// Runs a prepared statement on its own (autocommit, as `autocommit`) and returns its rows.
    ///
    /// Each pooled connection prepares the statement once, by name, and then only binds and runs
    /// it: no parsing per call (SQLKit's statements are unnamed, parsed at every call; PostgreSQL
    /// may still plan each call, as it does for the queue's claim). Rows are decoded by position
    /// into the statement's tuple, not looked up by column name as SQLKit's are.
    public func execute<Statement: PostgresPreparedStatement>(_ statement: Statement) async throws -> [Statement.Row]
    where Statement.Row: Sendable {
        try await retryingConflicts {
            try await self.withConnection { [logger] connection in
                var rows: [Statement.Row] = []
                for try await row in try await connection.execute(statement, logger: logger) { rows.append(row) }
                return rows
            }
        }
    }

    /// Runs `attempt` again, after a short random pause, while it loses conflicts.
    private func retryingConflicts<T: Sendable>(_ attempt: () async throws -> T) async throws -> T {
        var attempts = 0
        while true {
            attempts += 1
            do {
                return try await attempt()
            } catch let error as PostgresConflict where attempts <= Self.conflictRetries {
                logger.debug("transaction lost a conflict; running it again",
                             metadata: ["attempt": "\(attempts)", "error": "\(error)"])
                try await Task.sleep(for: .milliseconds(Int.random(in: 1...(5 * attempts))))
            } catch let error as PostgresConflict {
                throw StorageInvariant("a transaction lost \(attempts) conflicts in a row: \(error.description)")
            }
        }
    }

    /// Lends a pooled connection to `body`; PostgreSQL's errors come out in storage-neutral terms.
    /// Waiting for a connection is bounded, so an unreachable server fails requests fast.
    public func withConnection<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        if closed.load(ordering: .relaxed) { throw DatabaseUnavailable("the database is closed") }
        if unreachable.load(ordering: .relaxed) { throw DatabaseUnavailable("PostgreSQL does not answer; trying again") }
        do {
            return try await lease(body)
        } catch let error as DatabaseUnavailable {
            if !closed.load(ordering: .relaxed) { markUnreachable(error) }
            throw error
        }
    }

    /// Fails calls at once from now on, and probes the server until it answers.
    private func markUnreachable(_ error: DatabaseUnavailable) {
        unreachable.store(true, ordering: .relaxed)
        guard probing.compareExchange(expected: false, desired: true, ordering: .relaxed).exchanged else { return }
        logger.warning("PostgreSQL does not answer; requests fail at once until it does", metadata: ["error": "\(error)"])
        Task {
            while !closed.load(ordering: .relaxed) {
                // Each attempt is bounded: a probe that hung would keep every call failing.
                let attempt = Task { try await self.lease { [logger] connection in _ = try await connection.query("SELECT 1", logger: logger) } }
                let watchdog = Task {
                    try await Task.sleep(for: .seconds(2))
                    attempt.cancel()
                }
                let answered = (try? await attempt.value) != nil
                watchdog.cancel()
                if answered { break }
                try? await Task.sleep(for: .milliseconds(250))
            }
            unreachable.store(false, ordering: .relaxed)
            probing.store(false, ordering: .relaxed)
            logger.notice("PostgreSQL answers again")
        }
    }

    /// `withConnection` without the unreachable check.
    private func lease<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        let client = self.client, timeout = acquireTimeout
        // The pool waits for a connection as long as it takes (it keeps retrying a server that is
        // down); a request should fail with 503 instead. The lease races a timer that only counts
        // until the connection is lent: the body itself may take as long as it needs. On a timeout
        // the caller gets its error at once: the abandoned lease is cancelled, never awaited (a
        // task group would wait for it, and a lease stuck in a failing pool would hang the caller).
        let lease = Lease<T>()
        do {
            return try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
                    lease.start(continuation)
                    let work = Task {
                        do {
                            lease.finish(.success(try await client.withConnection { connection in
                                // Lent after the timer fired: the caller has its error, the body must not run.
                                guard lease.phase.compareExchange(expected: Lease<T>.waiting, desired: Lease<T>.lent,
                                                                  ordering: .relaxed).exchanged else { throw CancellationError() }
                                return try await self.watchingClose(of: connection, for: lease) { try await body(connection) }
                            }))
                        } catch {
                            lease.finish(.failure(error))
                        }
                    }
                    let timer = Task {
                        try? await Task.sleep(for: timeout)
                        guard !Task.isCancelled, lease.phase.compareExchange(expected: Lease<T>.waiting, desired: Lease<T>.timedOut,
                                                                             ordering: .relaxed).exchanged else { return }
                        if lease.finish(.failure(DatabaseUnavailable("no PostgreSQL connection within \(timeout)"))) { work.cancel() }
                    }
                    lease.tasks(work: work, timer: timer)
                }
            } onCancel: {
                lease.cancel()
            }
        } catch {
            throw Self.translate(error)
        }
    }

    /// How long a body may go on after its connection closed before its caller gets `DatabaseUnavailable`.
    static let closedConnectionGrace = Duration.seconds(1)

    /// Runs `body` on `connection`, and ends the lease with `DatabaseUnavailable` if the connection
    /// closes under it and the body has not ended a moment later.
    ///
    /// A query that PostgresNIO writes to a channel that has just closed is dropped with its
    /// promise, and its caller waits forever (seen when the server stops with queries in flight:
    /// `pg_ctl stop`, `pg_terminate_backend`). Such a body can only fail, but it would never say
    /// so: a job would stay running in its worker, and the probe that ends the down state would
    /// never answer. The hung body is abandoned (its task stays suspended; the pool has already
    /// dropped the closed connection, so no pool slot is lost).
    private func watchingClose<T: Sendable>(of connection: PostgresConnection, for lease: Lease<T>,
                                            _ body: () async throws -> T) async throws -> T {
        let id = connection.id
        let watched = lent.withLock { table in
            defer { table[id] = lease.abandon }
            return table.keys.contains(id)
        }
        // One close callback per connection, not per call: a future's callbacks are kept until it completes.
        if !watched { connection.closeFuture.whenComplete { _ in self.connectionClosed(id) } }
        defer { lent.withLock { table in if table[id] != nil { table[id] = .some(nil) } } }
        guard !connection.isClosed else { throw DatabaseUnavailable("PostgreSQL closed the connection") }
        return try await body()
    }

    /// The pooled connection `id` closed: the call it is lent to, if any, is abandoned after the grace.
    private func connectionClosed(_ id: PostgresConnection.ID) {
        guard let abandon = lent.withLock({ $0.removeValue(forKey: id) }) ?? nil else { return }
        Task {
            try? await Task.sleep(for: Self.closedConnectionGrace)
            abandon(DatabaseUnavailable("PostgreSQL closed the connection during a call"))
        }
    }

    /// One connection lease racing its timer: whichever ends first resumes the caller, once.
    private final class Lease<T: Sendable>: Sendable {
        static var waiting: Int { 0 }
        static var lent: Int { 1 }
        static var timedOut: Int { 2 }
        /// Waiting for a connection, lent one (the body runs), or timed out (it never will).
        let phase = Atomic<Int>(0)
        private let state = Mutex<(continuation: CheckedContinuation<T, any Error>?, work: Task<Void, Never>?,
                                   timer: Task<Void, Never>?, cancelled: Bool)>((nil, nil, nil, false))

        func start(_ continuation: CheckedContinuation<T, any Error>) {
            state.withLock { $0.continuation = continuation }
        }

        func tasks(work: Task<Void, Never>, timer: Task<Void, Never>) {
            let cancelled = state.withLock { state in
                state.work = work
                state.timer = timer
                return state.cancelled
            }
            if cancelled { work.cancel(); timer.cancel() }
        }

        /// Resumes the caller with `result` unless it was resumed already; true if this call did.
        @discardableResult
        func finish(_ result: Result<T, any Error>) -> Bool {
            let (continuation, timer) = state.withLock { state in
                defer { state.continuation = nil }
                return (state.continuation, state.timer)
            }
            timer?.cancel()
            continuation?.resume(with: result)
            return continuation != nil
        }

        /// Gives the caller `error` unless it has its result already, and cancels the body.
        @Sendable func abandon(_ error: DatabaseUnavailable) {
            let work = state.withLock { $0.work }
            if finish(.failure(error)) { work?.cancel() }
        }

        /// The caller was cancelled: still waiting for a connection, it returns at once and the
        /// body never runs; with a connection lent, the body is cancelled and its end awaited.
        func cancel() {
            let (work, timer) = state.withLock { state in
                state.cancelled = true
                return (state.work, state.timer)
            }
            work?.cancel()
            timer?.cancel()
            if phase.compareExchange(expected: Self.waiting, desired: Self.timedOut, ordering: .relaxed).exchanged {
                finish(.failure(CancellationError()))
            }
        }
    }

    /// PostgreSQL's errors in storage-neutral terms; anything else passes through unchanged.
    static func translate(_ error: any Error) -> any Error {
        guard let error = error as? PSQLError else {
            // The pool's own failures: no connection could be made for a while, or it shut down.
            if let error = error as? _ConnectionPoolModule.ConnectionPoolError, error != .requestCancelled {
                return DatabaseUnavailable("PostgreSQL: no connection (\(error))")
            }
            return error
        }
        if let state = error.serverInfo?[.sqlState] {
            let message = error.serverInfo?[.message] ?? state
            switch state {
            case "23503": return MissingReference(message) // foreign_key_violation
            case "23505", "40001", "40P01": return PostgresConflict(state: state, message: message) // unique, serialization, deadlock
            case _ where state.hasPrefix("08") || state.hasPrefix("53") || state.hasPrefix("57P"):
                // connection exceptions, insufficient resources, admin or crash shutdown
                return DatabaseUnavailable("PostgreSQL \(state): \(message)")
            default: return error
            }
        }
        switch error.code {
        case .connectionError, .serverClosedConnection, .clientClosedConnection, .uncleanShutdown, .poolClosed:
            return DatabaseUnavailable("PostgreSQL: \(error.code)")
        default:
            return error
        }
    }

    /// Creates the database `name` on the server at `url` (tests make one each; names are plain
    /// lowercase words, digits and underscores).
    public static func createDatabase(_ name: String, serverURL url: String, logger: Logger) async throws {
        try await onServer(url, logger: logger) { db in
            try await db.raw("CREATE DATABASE \(ident: try plainName(name))").run()
        }
    }

    /// Drops the database `name` on the server at `url`, ending its sessions first.
    public static func dropDatabase(_ name: String, serverURL url: String, logger: Logger) async throws {
        try await onServer(url, logger: logger) { db in
            try await db.raw("DROP DATABASE IF EXISTS \(ident: try plainName(name)) WITH (FORCE)").run()
        }
    }

    private static func onServer(_ url: String, logger: Logger, _ body: @escaping @Sendable (any SQLDatabase) async throws -> Void) async throws {
        let store = try await open(url: url, connections: 1, acquireTimeout: .seconds(30), logger: logger)
        do {
            try await store.read(body)
            try await store.close()
        } catch {
            try? await store.close()
            throw error
        }
    }

    private static func plainName(_ name: String) throws -> String {
        guard !name.isEmpty, name.utf8.allSatisfy({ ($0 >= 0x61 && $0 <= 0x7a) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x5f }) else {
            throw InvalidDatabaseURL(url: name)
        }
        return name
    }

    public func ping() async throws {
        try await read { db in
            _ = try await db.raw("SELECT 1 AS one").first()
        }
    }

    /// Stops the pool: running work finishes, later calls fail with `DatabaseUnavailable`.
    public func close() async throws {
        guard closed.compareExchange(expected: false, desired: true, ordering: .sequentiallyConsistent).exchanged else { return }
        await listener.close()
        let task = runTask.withLock { $0 }
        task?.cancel()
        await task?.value
    }
}

/// A transaction lost to a concurrent one (a unique index both wrote, a deadlock, a serialization
/// failure); `PostgresStore.transaction` runs it again.
public struct PostgresConflict: Error, CustomStringConvertible {
    public let state: String
    public let message: String
    public var description: String { "\(state): \(message)" }
}

/// Where a PostgreSQL server is and who to connect as, from a `postgres://` URL.
public struct PostgresStoreConfiguration: Sendable, Equatable {
    public var host: String
    public var port: Int
    public var username: String
    public var password: String?
    public var database: String?
    /// `sslmode=require` asks for TLS; by default a loopback server is spoken to in the clear.
    public var requireTLS: Bool

    /// Parses `postgres://user[:password]@host[:port][/database][?sslmode=disable|require]`.
    public init(url: String) throws {
        guard let components = URLComponents(string: url), ["postgres", "postgresql"].contains(components.scheme ?? ""),
              let host = components.host, !host.isEmpty, let user = components.user, !user.isEmpty else {
            throw InvalidDatabaseURL(url: url)
        }
        self.host = host
        self.port = components.port ?? 5432
        self.username = user.removingPercentEncoding ?? user
        self.password = components.password.map { $0.removingPercentEncoding ?? $0 }
        let path = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        self.database = path.isEmpty ? nil : path
        let sslmode = components.queryItems?.first { $0.name == "sslmode" }?.value ?? "disable"
        guard ["disable", "require"].contains(sslmode) else { throw InvalidDatabaseURL(url: url) }
        self.requireTLS = sslmode == "require"
    }

    /// This server's URL with another database (tests create one each).
    public func url(database: String) -> String {
        var components = URLComponents()
        components.scheme = "postgres"
        components.host = host
        components.port = port
        components.user = username
        components.password = password
        components.path = "/" + database
        if requireTLS { components.queryItems = [URLQueryItem(name: "sslmode", value: "require")] }
        return components.string ?? ""
    }

    func client(options: PostgresClient.Configuration.Options) -> PostgresClient.Configuration {
        let tls: PostgresClient.Configuration.TLS = requireTLS ? .require(.makeClientConfiguration()) : .disable
        var configuration = PostgresClient.Configuration(host: host, port: port, username: username, password: password,
                                                         database: database, tls: tls)
        configuration.options = options
        return configuration
    }

    /// The same server, for one connection of its own (the LISTEN connection).
    func connection() throws -> PostgresConnection.Configuration {
        let tls: PostgresConnection.Configuration.TLS = requireTLS ? .require(try .init(configuration: .makeClientConfiguration())) : .disable
        return PostgresConnection.Configuration(host: host, port: port, username: username, password: password,
                                                database: database, tls: tls)
    }
}

/// A database URL that is not `postgres://user@host[:port]/database`.
public struct InvalidDatabaseURL: Error, CustomStringConvertible {
    public let url: String
    public var description: String {
        "not a PostgreSQL URL (postgres://user:password@host:port/database): \(url.replacingOccurrences(of: #":[^:@/]*@"#, with: ":***@", options: .regularExpression))"
    }
}
