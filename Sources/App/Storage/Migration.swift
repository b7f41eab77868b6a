import Foundation
import Logging
import SQLKit

/// One versioned schema change. Landed migrations are never edited: a change is a new version.
public protocol Migration: Sendable {
    /// Strictly increasing across the list; recorded in `schema_migrations` once applied.
    var version: Int { get }
    /// What the migration does, in words (`create_accounts`).
    var name: String { get }
    /// The statements to run, in order, inside one transaction.
    var statements: [String] { get }
}

/// Applies the migrations a database has not seen yet, each in its own transaction, and records
/// each in `schema_migrations`.
public struct Migrator: Sendable {
    public let migrations: [any Migration]

    public init(migrations: [any Migration]) {
        precondition(zip(migrations, migrations.dropFirst()).allSatisfy { $0.version < $1.version },
                     "migration versions must increase")
        self.migrations = migrations
    }

    /// The migrations of `engine`, in order.
    public static func agora(for engine: DatabaseEngine) -> Migrator {
        switch engine {
        case .sqlite: Migrator(migrations: SQLiteMigrations.all)
        }
    }

    /// Applies every pending migration and returns the versions it applied.
    @discardableResult
    public func migrate(_ database: any Database, logger: Logger) async throws -> [Int] {
        try await database.transaction { db in
            try await db.raw("""
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version BIGINT PRIMARY KEY,
                    name TEXT NOT NULL,
                    applied_at BIGINT NOT NULL
                )
                """).run()
        }
        var applied: [Int] = []
        for migration in migrations {
            let done = try await database.transaction { db in
                let existing = try await db.raw("SELECT version FROM schema_migrations WHERE version = \(bind: migration.version)").first()
                if existing != nil { return false }
                for statement in migration.statements {
                    try await db.raw(SQLQueryString(statement)).run()
                }
                try await db.raw("""
                    INSERT INTO schema_migrations (version, name, applied_at)
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
}
