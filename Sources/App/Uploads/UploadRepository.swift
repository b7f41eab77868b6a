import SQLKit
import Storage

/// Storage of uploads: their rows, the inspection's outcome, and which are ready to attach.
public protocol UploadRepository: Sendable {
    /// Stores a new upload as `processing` and returns it.
    func insert(_ upload: NewUpload, on db: any SQLDatabase) async throws -> UploadRecord
    func find(id: Int64, on db: any SQLDatabase) async throws -> UploadRecord?
    /// Marks a processing upload ready with what the inspection found; false when it was not
    /// processing any more (another run of the job got there first).
    func markReady(id: Int64, contentType: String, sha256: String, width: Int?, height: Int?, at: Timestamp,
                   on db: any SQLDatabase) async throws -> Bool
    /// Marks a processing upload rejected with `reason`; false when it was not processing any more.
    func markRejected(id: Int64, reason: String, sha256: String?, at: Timestamp, on db: any SQLDatabase) async throws -> Bool
    /// Those of `ids` that are ready uploads of `userID`, as attachments, in no particular order.
    func readyUploads(ids: [Int64], ownedBy userID: Int64, on db: any SQLDatabase) async throws -> [Attachment]
}
