import Foundation
import Logging
import SQLKit

/// One versioned schema change. Landed migrations are never edited: a change is a new version.
public protocol Migration: Sendable {
    /// Strictly increasing across the list; recorded in `schema_migrations` once applied.
    var version: Int { get }
    /// What the migration does, in words (`create_accounts`).
    var name: String { get }
    /// The statements to run on SQLite, in order, inside one transaction.
    var sqlite: [String] { get }
    /// The same change on PostgreSQL: the twin of `sqlite`, differing only where the dialects do.
    var postgres: [String] { get }
}

extension Migration {
    /// The statements for `engine`.
    public func statements(for engine: DatabaseEngine) -> [String] {
        switch engine {
        case .sqlite: sqlite
        case .postgres: postgres
        }
    }
}

/// Applies the migrations a database has not seen yet, each in its own transaction, and records
/// each in its history table.
///
/// Several instances may start at once on one PostgreSQL server: every transaction of a
/// migration run first takes a transaction-scoped advisory lock, so one instance applies each
/// migration and the others, waiting on the lock, then find it recorded. (On SQLite the single
/// writer already runs one transaction at a time.)
///
/// Each component that owns tables (the app, the queue) keeps its own history table, so their
/// version numbers never meet.
public struct Migrator: Sendable {
    public let migrations: [any Migration]
    /// The table recording applied versions (`schema_migrations` for the app).
    public let historyTable: String

    public init(migrations: [any Migration], historyTable: String = "schema_migrations") {
        precondition(zip(migrations, migrations.dropFirst()).allSatisfy { $0.version < $1.version },
                     "migration versions must increase")
        precondition(historyTable.allSatisfy { $0.isLetter || $0 == "_" }, "a plain table name")
        self.migrations = migrations
        self.historyTable = historyTable
    }

    /// Applies every pending migration and returns the versions it applied.
    @discardableResult
    public func migrate(_ database: any Database, logger: Logger) async throws -> [Int] {
        let historyTable = self.historyTable
        let lock = database.engine == .postgres ? Self.advisoryLock(historyTable) : nil
        try await database.transaction { db in
            if let lock { try await db.raw("SELECT pg_advisory_xact_lock(\(bind: lock))").run() }
            try await db.raw("""
                CREATE TABLE IF NOT EXISTS \(ident: historyTable) (
                    version BIGINT PRIMARY KEY,
                    name TEXT NOT NULL,
                    applied_at BIGINT NOT NULL
                )
                """).run()
        }
        var applied: [Int] = []
        for migration in migrations {
            let done = try await database.transaction { db in
                if let lock { try await db.raw("SELECT pg_advisory_xact_lock(\(bind: lock))").run() }
                let existing = try await db.raw("SELECT version FROM \(ident: historyTable) WHERE version = \(bind: migration.version)").first()
                if existing != nil { return false }
                for statement in migration.statements(for: database.engine) {
                    try await db.raw(SQLQueryString(statement)).run()
                }
                try await db.raw("""
                    INSERT INTO \(ident: historyTable) (version, name, applied_at)
                    VALUES (\(bind: migration.version), \(bind: migration.name), \(bind: Timestamp.now.milliseconds))
                    """).run()
                return true
            }
            if done {
                logger.info("applied migration", metadata: ["version": "\(migration.version)", "name": "\(migration.name)"])
                applied.append(migration.version)
            }
        }
        return applied
    }

    /// A stable advisory-lock key per history table (the same in every process, unlike `hashValue`).
    static func advisoryLock(_ table: String) -> Int64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325 // FNV-1a
        for byte in ("agora.migrations." + table).utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
        }
        return Int64(bitPattern: hash)
    }
}
