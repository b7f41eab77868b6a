import SQLKit
import Storage

/// `ExportRepository` over SQLKit; the SQL is the same on every engine.
struct SQLExportRepository: ExportRepository {
    private static let columns = "id, user_id, status, progress, file_name, size, error, created_at, finished_at"

    func insert(userID: Int64, at time: Timestamp, on db: any SQLDatabase) async throws -> Int64 {
        let row = try await db.raw("""
            INSERT INTO exports (user_id, status, progress, created_at) VALUES (\(bind: userID), 'pending', 0, \(bind: time.milliseconds))
            RETURNING id
            """).first()
        guard let row else { throw StorageInvariant("INSERT … RETURNING gave no row") }
        return try row.decode(column: "id", as: Int64.self)
    }

    func find(id: Int64, on db: any SQLDatabase) async throws -> ExportRecord? {
        try await db.raw("SELECT \(unsafeRaw: Self.columns) FROM exports WHERE id = \(bind: id)").first().map(Self.record)
    }

    func live(userID: Int64, on db: any SQLDatabase) async throws -> ExportRecord? {
        try await db.raw("""
            SELECT \(unsafeRaw: Self.columns) FROM exports WHERE user_id = \(bind: userID) AND status IN ('pending', 'running')
            ORDER BY id DESC LIMIT 1
            """).first().map(Self.record)
    }

    func setRunning(id: Int64, progress: Int, on db: any SQLDatabase) async throws {
        try await db.raw("UPDATE exports SET status = 'running', progress = \(bind: progress) WHERE id = \(bind: id)").run()
    }

    func setReady(id: Int64, fileName: String, size: Int64, at time: Timestamp, on db: any SQLDatabase) async throws {
        try await db.raw("""
            UPDATE exports SET status = 'ready', progress = 100, file_name = \(bind: fileName), size = \(bind: size),
                   finished_at = \(bind: time.milliseconds)
            WHERE id = \(bind: id)
            """).run()
    }

    func setFailed(id: Int64, error: String, at time: Timestamp, on db: any SQLDatabase) async throws {
        try await db.raw("""
            UPDATE exports SET status = 'failed', error = \(bind: error), finished_at = \(bind: time.milliseconds) WHERE id = \(bind: id)
            """).run()
    }

    func deleteCreated(before cutoff: Timestamp, on db: any SQLDatabase) async throws -> [String] {
        try await db.raw("DELETE FROM exports WHERE created_at < \(bind: cutoff.milliseconds) RETURNING file_name").all()
            .compactMap { try $0.decode(column: "file_name", as: String?.self) }
    }

    private static func record(_ row: any SQLRow) throws -> ExportRecord {
        ExportRecord(
            id: try row.decode(column: "id", as: Int64.self),
            userID: try row.decode(column: "user_id", as: Int64.self),
            status: ExportStatus(rawValue: try row.decode(column: "status", as: String.self)) ?? .failed,
            progress: try row.decode(column: "progress", as: Int.self),
            fileName: try row.decode(column: "file_name", as: String?.self),
            size: try row.decode(column: "size", as: Int64?.self),
            error: try row.decode(column: "error", as: String?.self),
            createdAt: Timestamp(milliseconds: try row.decode(column: "created_at", as: Int64.self)),
            finishedAt: try row.decode(column: "finished_at", as: Int64?.self).map(Timestamp.init(milliseconds:)))
    }
}
