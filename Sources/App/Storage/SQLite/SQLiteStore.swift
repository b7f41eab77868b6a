import Foundation
import Logging
import NIOCore
import NIOPosix
import SQLKit
import SQLiteKit
import SQLiteNIO
import Synchronization

/// The embedded database: one SQLite file in WAL mode with a single writer connection and a
/// few reader connections.
///
/// WAL lets readers run beside the writer; every write goes through the one writer connection
/// behind a FIFO `WriterLock`, with `BEGIN IMMEDIATE` so a transaction never has to upgrade a
/// read lock (the usual source of `SQLITE_BUSY` deadlocks).
public final class SQLiteStore: Database {
    public var engine: DatabaseEngine { .sqlite }

    private let writer: SQLiteConnection
    private let readers: [SQLiteConnection]
    private let writerLock = WriterLock()
    private let nextReader = Atomic<Int>(0)
    private let closed = Atomic<Bool>(false)
    private let threadPool: NIOThreadPool
    private let logger: Logger

    private init(writer: SQLiteConnection, readers: [SQLiteConnection], threadPool: NIOThreadPool, logger: Logger) {
        self.writer = writer
        self.readers = readers
        self.threadPool = threadPool
        self.logger = logger
    }

    /// Opens (creating if needed) the database file at `path`.
    /// - Parameters:
    ///   - readers: number of read-only connections beside the writer.
    public static func open(path: String, readers: Int, logger: Logger) async throws -> SQLiteStore {
        // sqlite-nio runs every call on this pool; one thread per connection keeps a slow
        // write from starving reads.
        let threadPool = NIOThreadPool(numberOfThreads: readers + 1)
        threadPool.start()
        let eventLoop = MultiThreadedEventLoopGroup.singleton.any()
        func connect() async throws -> SQLiteConnection {
            let connection = try await SQLiteConnection.open(
                storage: .file(path: path), threadPool: threadPool, logger: logger, on: eventLoop)
            for pragma in ["PRAGMA journal_mode = WAL", "PRAGMA synchronous = NORMAL", "PRAGMA foreign_keys = ON",
                           "PRAGMA busy_timeout = 5000", "PRAGMA temp_store = MEMORY", "PRAGMA cache_size = -16000"] {
                try await connection.query(pragma, []) { _ in }
            }
            return connection
        }
        let writer = try await connect()
        var readerConnections: [SQLiteConnection] = []
        for _ in 0..<max(1, readers) {
            let reader = try await connect()
            try await reader.query("PRAGMA query_only = ON", []) { _ in }
            readerConnections.append(reader)
        }
        return SQLiteStore(writer: writer, readers: readerConnections, threadPool: threadPool, logger: logger)
    }

    public func read<T: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        try ensureOpen()
        let index = nextReader.wrappingAdd(1, ordering: .relaxed).oldValue
        let connection = readers[index % readers.count]
        return try await body(connection.sql(queryLogLevel: .trace))
    }

    public func transaction<T: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        try ensureOpen()
        await writerLock.acquire()
        let sql = writer.sql(queryLogLevel: .trace)
        do {
            try ensureOpen()
            try await sql.raw("BEGIN IMMEDIATE").run()
        } catch {
            await writerLock.release()
            throw error
        }
        do {
            let result = try await body(sql)
            try await sql.raw("COMMIT").run()
            await writerLock.release()
            return result
        } catch {
            do {
                try await sql.raw("ROLLBACK").run()
            } catch {
                logger.error("rollback failed", metadata: ["error": "\(error)"])
            }
            await writerLock.release()
            throw error
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

    /// Closes the connections once the current write is done; later calls fail with `DatabaseUnavailable`.
    public func close() async throws {
        guard closed.compareExchange(expected: false, desired: true, ordering: .sequentiallyConsistent).exchanged else { return }
        await writerLock.acquire()
        defer { Task { await writerLock.release() } }
        try? await writer.sql().raw("PRAGMA wal_checkpoint(TRUNCATE)").run()
        for connection in readers + [writer] {
            try await connection.close()
        }
        try await threadPool.shutdownGracefully()
    }
}
