import SQLKit
import Storage

/// Storage of data exports.
public protocol ExportRepository: Sendable {
    func insert(userID: Int64, at: Timestamp, on db: any SQLDatabase) async throws -> Int64
    func find(id: Int64, on db: any SQLDatabase) async throws -> ExportRecord?
    /// The user's pending or running export, if any.
    func live(userID: Int64, on db: any SQLDatabase) async throws -> ExportRecord?
    func setRunning(id: Int64, progress: Int, on db: any SQLDatabase) async throws
    func setReady(id: Int64, fileName: String, size: Int64, at: Timestamp, on db: any SQLDatabase) async throws
    func setFailed(id: Int64, error: String, at: Timestamp, on db: any SQLDatabase) async throws
    /// Deletes the exports created before `cutoff` and returns their file names (where they had one).
    func deleteCreated(before cutoff: Timestamp, on db: any SQLDatabase) async throws -> [String]
}
