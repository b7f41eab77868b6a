import SQLKit

/// The storage engine under Agora's app and its queue: reads on any connection, writes in
/// transactions.
///
/// Repositories and queue drivers receive the `SQLDatabase` handed to the closures, so a service
/// decides the transaction boundary and several repositories and the queue can share one
/// transaction (the queue's transactional enqueue).
public protocol Database: Sendable {
    /// Which SQL engine this is; repositories use it where dialects differ.
    var engine: DatabaseEngine { get }

    /// Runs `body` on a connection that sees committed data. Must not write.
    func read<T: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> T) async throws -> T

    /// Runs `body` inside one transaction: committed when it returns, rolled back when it throws.
    /// `body` must only touch the database: an engine may run it again (after a conflict, or when
    /// another transaction of the same group commit failed).
    func transaction<T: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> T) async throws -> T

    /// Runs `body`, a write that is atomic by itself on this engine, and commits it: on PostgreSQL
    /// one statement, run outside an explicit transaction (one round trip instead of three, and
    /// the rows it locks are locked only for that statement); on SQLite, which may need several
    /// statements for the same write, a transaction. Retried as `transaction` is.
    func autocommit<T: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> T) async throws -> T

    /// Throws when the database does not answer.
    func ping() async throws

    /// Closes every connection. No call may follow.
    func close() async throws
}

/// The SQL engines Agora runs on.
public enum DatabaseEngine: String, Sendable, CaseIterable {
    /// The embedded default: one file in the data directory (`SQLiteStore`).
    case sqlite
    /// A PostgreSQL server, shared by several instances (`PostgresStore`).
    case postgres
}

/// A storage failure that a client cannot cause and should retry later (shown as 503).
public struct DatabaseUnavailable: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// A storage result that breaks an assumption the code relies on (a bug, not a client error).
public struct StorageInvariant: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// A write referred to a row that no longer exists (a foreign key). Engines translate their own
/// error into this, so nothing above storage depends on an engine's error type.
public struct MissingReference: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
