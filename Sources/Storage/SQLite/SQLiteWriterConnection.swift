import CSQLiteWriterSupport
import Logging
import NIOCore
import NIOPosix
import SQLKit
import SQLiteKit
import SQLiteNIO
import VaporCSQLite

/// The SQLite writer connection: every statement runs synchronously on the writer's own thread,
/// and prepared statements are kept for reuse.
///
/// Written by hand because sqlite-nio offers neither: it prepares every statement anew (an INSERT
/// recompiles its triggers and foreign-key checks each time) and runs each on its thread pool, so a
/// transaction of N statements costs 2N thread hops. The writer task runs with this connection's
/// event loop as its task executor (`EventLoopTaskExecutor`), so a whole group commit — BEGIN, every
/// transaction body, COMMIT — runs on one thread without a hop. It speaks SQLKit's `SQLDatabase`,
/// so repositories cannot tell it from sqlite-nio's connections (which still serve the readers).
///
/// Used only from its event loop; a call from elsewhere is moved there first.
final class SQLiteWriterConnection: SQLDatabase, @unchecked Sendable {
    /// Most statements kept prepared; past it the cache starts again (dynamic SQL such as IN lists
    /// of varying length would otherwise grow it without bound).
    static let statementCacheLimit = 128

    let eventLoop: any EventLoop
    let logger: Logger
    var dialect: any SQLDialect { SQLiteDialect() }
    var queryLogLevel: Logger.Level? { .trace }
    private let encoder = SQLiteDataEncoder()
    private let decoder = SQLiteDataDecoder()
    // Touched only on `eventLoop`.
    private var handle: OpaquePointer?
    private var statements: [String: OpaquePointer] = [:]

    private init(handle: OpaquePointer, eventLoop: any EventLoop, logger: Logger) {
        self.handle = handle
        self.eventLoop = eventLoop
        self.logger = logger
    }

    /// Opens (creating if needed) the database file at `path` on `eventLoop`'s thread.
    static func open(path: String, on eventLoop: any EventLoop, logger: Logger) async throws -> SQLiteWriterConnection {
        try await eventLoop.submit {
            var handle: OpaquePointer?
            let flags = SQLITE_OPEN_CREATE | SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE
            let status = sqlite_nio_sqlite3_open_v2(path, &handle, flags, nil)
            guard status == SQLITE_OK, let handle else {
                let message = handle.flatMap { sqlite_nio_sqlite3_errmsg($0) }.map { String(cString: $0) } ?? "cannot open"
                sqlite_nio_sqlite3_close_v2(handle)
                throw SQLiteFailure(code: status, message: "\(message): \(path)")
            }
            // Plans must not depend on bound values, or SQLite prepares a kept statement again
            // whenever such a value is rebound (measured: the queue's claim, at every claim).
            let qpsg = agora_sqlite_enable_qpsg(UnsafeMutableRawPointer(handle))
            guard qpsg == SQLITE_OK else {
                sqlite_nio_sqlite3_close_v2(handle)
                throw SQLiteFailure(code: qpsg, message: "cannot enable the query planner stability guarantee")
            }
            return SQLiteWriterConnection(handle: handle, eventLoop: eventLoop, logger: logger)
        }.get()
    }

    func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> Void) -> EventLoopFuture<Void> {
        eventLoop.submit { try self.run(query, onRow) }
    }

    func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> Void) async throws {
        if eventLoop.inEventLoop {
            try run(query, onRow)
        } else {
            try await eventLoop.submit { try self.run(query, onRow) }.get()
        }
    }

    func withSession<R>(_ closure: @escaping @Sendable (any SQLDatabase) async throws -> R) async throws -> R {
        try await closure(self)
    }

    /// Finalizes every statement and closes the connection; call on the event loop, once.
    func close() {
        eventLoop.preconditionInEventLoop()
        for statement in statements.values { sqlite_nio_sqlite3_finalize(statement) }
        statements.removeAll()
        sqlite_nio_sqlite3_close_v2(handle)
        handle = nil
    }

    private func run(_ query: any SQLExpression, _ onRow: (any SQLRow) -> Void) throws {
        eventLoop.preconditionInEventLoop()
        guard let handle else { throw SQLiteFailure(code: SQLITE_MISUSE, message: "the connection is closed") }
        let (sql, encodables) = serialize(query)
        if let queryLogLevel { logger.log(level: queryLogLevel, "Executing query", metadata: ["sql": "\(sql)"]) }
        let binds = try encodables.map { try Self.data(for: $0) ?? encoder.encode($0) }
        let statement = try prepared(sql, on: handle)
        defer {
            sqlite_nio_sqlite3_reset(statement)
            sqlite_nio_sqlite3_clear_bindings(statement)
        }
        for (index, value) in binds.enumerated() {
            try check(bind(value, at: Int32(index + 1), to: statement), on: handle)
        }
        var columns: [String]?
        while true {
            let status = sqlite_nio_sqlite3_step(statement)
            if status == SQLITE_DONE { return }
            guard status == SQLITE_ROW else { throw failure(status, on: handle) }
            let names = columns ?? Self.columnNames(of: statement)
            columns = names
            var values: [SQLiteData] = []
            values.reserveCapacity(names.count)
            for index in 0..<Int32(names.count) { values.append(Self.value(at: index, of: statement)) }
            onRow(SQLiteWriterRow(columns: names, values: values, decoder: decoder))
        }
    }

    /// The common bind types without the general encoder, which goes through Swift's `Encoder`
    /// machinery for every value (its dynamic casts showed in the queue's profiles).
    private static func data(for value: any Encodable) -> SQLiteData? {
        switch value {
        case let value as Int64: .integer(Int(value))
        case let value as Int: .integer(value)
        case let value as String: .text(value)
        case let value as Double: .float(value)
        case let value as Bool: .integer(value ? 1 : 0)
        default: nil
        }
    }

    private func prepared(_ sql: String, on handle: OpaquePointer) throws -> OpaquePointer {
        if let statement = statements[sql] { return statement }
        if statements.count >= Self.statementCacheLimit {
            for statement in statements.values { sqlite_nio_sqlite3_finalize(statement) }
            statements.removeAll(keepingCapacity: true)
        }
        var statement: OpaquePointer?
        let status = sqlite_nio_sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil)
        guard status == SQLITE_OK, let statement else { throw failure(status, on: handle) }
        statements[sql] = statement
        return statement
    }

    private func bind(_ value: SQLiteData, at index: Int32, to statement: OpaquePointer) -> Int32 {
        switch value {
        case .integer(let value):
            return sqlite_nio_sqlite3_bind_int64(statement, index, Int64(value))
        case .float(let value):
            return sqlite_nio_sqlite3_bind_double(statement, index, value)
        case .text(let value):
            return sqlite_nio_sqlite3_bind_text64(statement, index, value, UInt64(value.utf8.count), Self.transient, UInt8(SQLITE_UTF8))
        case .blob(let value):
            return value.withUnsafeReadableBytes { bytes in
                sqlite_nio_sqlite3_bind_blob64(statement, index, bytes.baseAddress, UInt64(bytes.count), Self.transient)
            }
        case .null:
            return sqlite_nio_sqlite3_bind_null(statement, index)
        }
    }

    private static func columnNames(of statement: OpaquePointer) -> [String] {
        (0..<sqlite_nio_sqlite3_column_count(statement)).map { index in
            sqlite_nio_sqlite3_column_name(statement, index).map { String(cString: $0) } ?? ""
        }
    }

    private static func value(at index: Int32, of statement: OpaquePointer) -> SQLiteData {
        switch sqlite_nio_sqlite3_column_type(statement, index) {
        case SQLITE_INTEGER:
            return .integer(Int(sqlite_nio_sqlite3_column_int64(statement, index)))
        case SQLITE_FLOAT:
            return .float(sqlite_nio_sqlite3_column_double(statement, index))
        case SQLITE_TEXT:
            guard let text = sqlite_nio_sqlite3_column_text(statement, index) else { return .text("") }
            let count = Int(sqlite_nio_sqlite3_column_bytes(statement, index))
            return .text(String(decoding: UnsafeBufferPointer(start: text, count: count), as: UTF8.self))
        case SQLITE_BLOB:
            let count = Int(sqlite_nio_sqlite3_column_bytes(statement, index))
            var buffer = ByteBufferAllocator().buffer(capacity: count)
            if let bytes = sqlite_nio_sqlite3_column_blob(statement, index) {
                buffer.writeBytes(UnsafeRawBufferPointer(start: bytes, count: count))
            }
            return .blob(buffer)
        default:
            return .null
        }
    }

    private func check(_ status: Int32, on handle: OpaquePointer) throws {
        guard status == SQLITE_OK else { throw failure(status, on: handle) }
    }

    private func failure(_ status: Int32, on handle: OpaquePointer) -> SQLiteFailure {
        SQLiteFailure(code: sqlite_nio_sqlite3_extended_errcode(handle),
                      message: sqlite_nio_sqlite3_errmsg(handle).map { String(cString: $0) } ?? "SQLite error \(status)")
    }

    /// SQLITE_TRANSIENT: SQLite copies the bound bytes before the call returns.
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
}

/// An error reported by SQLite through `SQLiteWriterConnection`, with its extended result code.
public struct SQLiteFailure: Error, CustomStringConvertible {
    public let code: Int32
    public let message: String

    /// The primary result code (SQLITE_BUSY, SQLITE_CONSTRAINT, …).
    public var primaryCode: Int32 { code & 0xFF }
    public var description: String { "SQLite error \(code): \(message)" }
}

/// One result row of `SQLiteWriterConnection`.
private struct SQLiteWriterRow: SQLRow {
    let columns: [String]
    let values: [SQLiteData]
    let decoder: SQLiteDataDecoder

    var allColumns: [String] { columns }

    func contains(column: String) -> Bool { columns.contains(column) }

    func decodeNil(column: String) throws -> Bool {
        guard let index = columns.firstIndex(of: column) else { return true }
        return values[index] == .null
    }

    func decode<D: Decodable>(column: String, as type: D.Type) throws -> D {
        guard let index = columns.firstIndex(of: column) else {
            throw DecodingError.keyNotFound(
                SQLWriterColumn(column), .init(codingPath: [], debugDescription: "no column \(column) in the row"))
        }
        // The common types directly; the general decoder for the rest and for every mismatch.
        switch values[index] {
        case .integer(let value):
            if D.self == Int64.self { return Int64(value) as! D }
            if D.self == Int.self { return value as! D }
        case .text(let value):
            if D.self == String.self { return value as! D }
        default:
            break
        }
        return try decoder.decode(D.self, from: values[index])
    }
}

private struct SQLWriterColumn: CodingKey {
    let stringValue: String
    var intValue: Int? { nil }
    init(_ name: String) { stringValue = name }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}
