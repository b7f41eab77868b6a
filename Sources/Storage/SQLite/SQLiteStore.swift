import Foundation
import Logging
import NIOCore
import NIOPosix
import SQLKit
import SQLiteKit
import SQLiteNIO
import Synchronization
import VaporCSQLite

/// The embedded database: one SQLite file in WAL mode with a single writer connection and a
/// few reader connections.
///
/// WAL lets readers run beside the writer. Every transaction goes through `WriteQueue` to the one
/// writer connection; the writer takes all transactions waiting at once and runs them in one
/// `BEGIN IMMEDIATE … COMMIT` (group commit). A caller hears of its outcome only after that
/// commit; a failing transaction never takes the others of its batch down with it.
///
/// The writer task runs on the writer connection's own thread (`SQLiteWriterConnection`), so a
/// batch runs without thread hops; readers are sqlite-nio connections on a thread pool, each lent
/// to one read at a time (`ReaderPool`).
public final class SQLiteStore: Database {
    public var engine: DatabaseEngine { .sqlite }

    /// Most transactions one commit carries; bounds the wait of the first in a batch.
    static let maxBatch = 128

    private let writer: SQLiteWriterConnection
    private let writerLoop: MultiThreadedEventLoopGroup
    private let readers: ReaderPool
    private let queue = WriteQueue()
    private let closed = Atomic<Bool>(false)
    private let writerDone = Mutex<Task<Void, Never>?>(nil)
    private let commitObservers = Mutex<[@Sendable () -> Void]>([])
    private let threadPool: NIOThreadPool
    public let logger: Logger

    private init(writer: SQLiteWriterConnection, writerLoop: MultiThreadedEventLoopGroup,
                 readers: [SQLiteConnection], threadPool: NIOThreadPool, logger: Logger) {
        self.writer = writer
        self.writerLoop = writerLoop
        self.readers = ReaderPool(readers)
        self.threadPool = threadPool
        self.logger = logger
    }

    /// Opens (creating if needed) the database file at `path`.
    /// - Parameters:
    ///   - readers: number of read-only connections beside the writer.
    public static func open(path: String, readers: Int, logger: Logger) async throws -> SQLiteStore {
        // synchronous=NORMAL in WAL mode: a commit is in the WAL before the caller hears of it, so
        // it survives a killed process (SIGKILL); only an OS crash or power loss can drop the
        // last commits, which FULL would prevent at the price of an fsync per commit.
        let pragmas = ["PRAGMA journal_mode = WAL", "PRAGMA synchronous = NORMAL", "PRAGMA foreign_keys = ON",
                       "PRAGMA busy_timeout = 5000", "PRAGMA temp_store = MEMORY", "PRAGMA cache_size = -8000"]
        // The writer first: it creates the file and switches it to WAL before any reader opens it.
        let writerLoop = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let writer: SQLiteWriterConnection
        do {
            writer = try await SQLiteWriterConnection.open(path: path, on: writerLoop.next(), logger: logger)
            for pragma in pragmas { try await writer.raw(SQLQueryString(pragma)).run() }
        } catch {
            try? await writerLoop.shutdownGracefully()
            throw error
        }
        // sqlite-nio runs every reader call on this pool: a thread for each connection.
        let threadPool = NIOThreadPool(numberOfThreads: max(1, readers))
        threadPool.start()
        let eventLoop = MultiThreadedEventLoopGroup.singleton.any()
        var readerConnections: [SQLiteConnection] = []
        for _ in 0..<max(1, readers) {
            let reader = try await SQLiteConnection.open(
                storage: .file(path: path), threadPool: threadPool, logger: logger, on: eventLoop)
            for pragma in pragmas + ["PRAGMA query_only = ON"] { try await reader.query(pragma, []) { _ in } }
            readerConnections.append(reader)
        }
        let store = SQLiteStore(writer: writer, writerLoop: writerLoop, readers: readerConnections,
                                threadPool: threadPool, logger: logger)
        let task = Task(executorPreference: EventLoopTaskExecutor(writer.eventLoop)) { await store.runWriter() }
        store.writerDone.withLock { $0 = task }
        return store
    }

    public func read<T: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        try ensureOpen()
        do {
            return try await readers.withConnection { connection in try await body(connection.sql(queryLogLevel: .trace)) }
        } catch {
            throw Self.translate(error)
        }
    }

    public func transaction<T: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        try ensureOpen()
        let write = PendingWrite { db in try await body(db) }
        guard queue.submit(write) else { throw DatabaseUnavailable("the database is closed") }
        let outcome: any Sendable
        do {
            outcome = try await write.outcome()
        } catch {
            throw Self.translate(error)
        }
        guard let value = outcome as? T else { throw StorageInvariant("a write returned the wrong type") }
        return value
    }

    /// A transaction of the writer: SQLite commits in groups, so one statement gains nothing alone.
    public func autocommit<T: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        try await transaction(body)
    }

    /// SQLite's errors in storage-neutral terms; anything else passes through unchanged.
    static func translate(_ error: any Error) -> any Error {
        if let failure = error as? SQLiteFailure {
            if failure.code == SQLITE_CONSTRAINT | (3 << 8) { // SQLITE_CONSTRAINT_FOREIGNKEY
                return MissingReference(failure.message)
            }
            let unavailable = [SQLITE_BUSY, SQLITE_LOCKED, SQLITE_IOERR, SQLITE_FULL, SQLITE_CANTOPEN]
            return unavailable.contains(failure.primaryCode) ? DatabaseUnavailable(failure.message) : failure
        }
        guard let error = error as? SQLiteError else { return error }
        switch error.reason {
        case .constraintForeignKeyFailed:
            return MissingReference(error.message)
        case .busy, .busyTimeout, .busyInRecovery, .busyInSnapshot, .locked, .ioError, .full, .cantOpen:
            return DatabaseUnavailable(error.message)
        default:
            return error
        }
    }

    /// The writer: takes every waiting transaction and commits them together until closed and
    /// drained, then checkpoints the WAL into the database file and closes the connection.
    private func runWriter() async {
        while true {
            let batch = await queue.next(limit: Self.maxBatch)
            if batch.isEmpty { break }
            await commit(batch, on: writer)
        }
        try? await writer.raw("PRAGMA wal_checkpoint(TRUNCATE)").run()
        writer.close()
    }

    /// Runs the batch in one transaction. If any body throws, the whole transaction is rolled back
    /// and each write is run again alone, so only the failing one fails. (Savepoints would isolate
    /// them without the rerun, but FTS5 flushes its index at every savepoint: measured slower.)
    /// Bodies therefore only touch the database, and may run twice.
    private func commit(_ batch: [PendingWrite], on sql: any SQLDatabase) async {
        if batch.count > 1 {
            switch await runTogether(batch, on: sql) {
            case .success(let values):
                for (write, value) in zip(batch, values) { write.complete(.success(value)) }
                return
            case .failure:
                break
            }
        }
        for write in batch {
            write.complete(await runTogether([write], on: sql).map { $0[0] })
        }
    }

    /// One `BEGIN IMMEDIATE … COMMIT` around every body of `writes`; rolled back if any throws.
    private func runTogether(_ writes: [PendingWrite], on sql: any SQLDatabase) async -> Result<[any Sendable], any Error> {
        do {
            try await sql.raw("BEGIN IMMEDIATE").run()
        } catch {
            return .failure(error)
        }
        do {
            var values: [any Sendable] = []
            values.reserveCapacity(writes.count)
            for write in writes { values.append(try await write.body(sql)) }
            try await sql.raw("COMMIT").run()
            for observer in commitObservers.withLock({ $0 }) { observer() }
            return .success(values)
        } catch {
            await rollback(sql)
            return .failure(error)
        }
    }

    /// Calls `observer` on the writer's thread after every commit, before the committed callers
    /// hear of it. Whatever a transaction body noted on the writer thread is therefore committed
    /// (or rolled back) by the time the observer runs: the queue uses it to wake its workers only
    /// for jobs that are visible. Keep it short: it holds up the writer.
    public func addCommitObserver(_ observer: @escaping @Sendable () -> Void) {
        commitObservers.withLock { $0.append(observer) }
    }

    private func rollback(_ sql: any SQLDatabase) async {
        do {
            try await sql.raw("ROLLBACK").run()
        } catch {
            logger.error("rollback failed", metadata: ["error": "\(error)"])
        }
    }

    private func ensureOpen() throws {
        if closed.load(ordering: .relaxed) { throw DatabaseUnavailable("the database is closed") }
    }

    public func ping() async throws {
        try await read { db in
            _ = try await db.raw("SELECT 1 AS one").first()
        }
    }

    /// Lets accepted writes finish, then closes the connections; later calls fail with `DatabaseUnavailable`.
    public func close() async throws {
        guard closed.compareExchange(expected: false, desired: true, ordering: .sequentiallyConsistent).exchanged else { return }
        queue.close()
        await writerDone.withLock { $0 }?.value
        for connection in readers.connections {
            try await connection.close()
        }
        try await threadPool.shutdownGracefully()
        try await writerLoop.shutdownGracefully()
    }
}
