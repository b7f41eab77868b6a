import SQLKit
import Storage

/// `UploadRepository` over SQLKit, the same SQL on every engine.
struct SQLUploadRepository: UploadRepository {
    func insert(_ upload: NewUpload, on db: any SQLDatabase) async throws -> UploadRecord {
        let row = try await db.raw("""
            INSERT INTO uploads (user_id, status, file_name, size, created_at)
            VALUES (\(bind: upload.userID), \(bind: UploadStatus.processing.rawValue), \(bind: upload.fileName),
                    \(bind: upload.size), \(bind: upload.createdAt.milliseconds))
            RETURNING id
            """).first()
        guard let row else { throw StorageInvariant("INSERT … RETURNING gave no row") }
        return UploadRecord(id: try row.decode(column: "id", as: Int64.self), userID: upload.userID, status: .processing,
                            fileName: upload.fileName, contentType: nil, size: upload.size, sha256: nil, width: nil,
                            height: nil, reason: nil, createdAt: upload.createdAt, processedAt: nil)
    }

    func find(id: Int64, on db: any SQLDatabase) async throws -> UploadRecord? {
        try await db.raw("""
            SELECT id, user_id, status, file_name, content_type, size, sha256, width, height, reason, created_at, processed_at
            FROM uploads WHERE id = \(bind: id)
            """).first().map(Self.record)
    }

    func markReady(id: Int64, contentType: String, sha256: String, width: Int?, height: Int?, at time: Timestamp,
                   on db: any SQLDatabase) async throws -> Bool {
        try await !db.raw("""
            UPDATE uploads SET status = \(bind: UploadStatus.ready.rawValue), content_type = \(bind: contentType),
                sha256 = \(bind: sha256), width = \(bind: width), height = \(bind: height), processed_at = \(bind: time.milliseconds)
            WHERE id = \(bind: id) AND status = \(bind: UploadStatus.processing.rawValue)
            RETURNING id
            """).all().isEmpty
    }

    func markRejected(id: Int64, reason: String, sha256: String?, at time: Timestamp, on db: any SQLDatabase) async throws -> Bool {
        try await !db.raw("""
            UPDATE uploads SET status = \(bind: UploadStatus.rejected.rawValue), reason = \(bind: reason),
                sha256 = \(bind: sha256), processed_at = \(bind: time.milliseconds)
            WHERE id = \(bind: id) AND status = \(bind: UploadStatus.processing.rawValue)
            RETURNING id
            """).all().isEmpty
    }

    func readyUploads(ids: [Int64], ownedBy userID: Int64, on db: any SQLDatabase) async throws -> [Attachment] {
        guard !ids.isEmpty else { return [] }
        return try await db.raw("""
            SELECT id, content_type, size, width, height FROM uploads
            WHERE id IN (\(binds: ids)) AND user_id = \(bind: userID) AND status = \(bind: UploadStatus.ready.rawValue)
            """).all().map(Self.attachment)
    }

    /// An attachment from a row with `id`, `content_type`, `size`, `width` and `height`.
    static func attachment(_ row: any SQLRow) throws -> Attachment {
        Attachment(id: try row.decode(column: "id", as: Int64.self),
                   contentType: try row.decode(column: "content_type", as: String.self),
                   size: try row.decode(column: "size", as: Int64.self),
                   width: try row.decode(column: "width", as: Int?.self),
                   height: try row.decode(column: "height", as: Int?.self))
    }

    private static func record(_ row: any SQLRow) throws -> UploadRecord {
        let status = try row.decode(column: "status", as: String.self)
        guard let status = UploadStatus(rawValue: status) else { throw StorageInvariant("unknown upload status \(status)") }
        return UploadRecord(
            id: try row.decode(column: "id", as: Int64.self),
            userID: try row.decode(column: "user_id", as: Int64.self),
            status: status,
            fileName: try row.decode(column: "file_name", as: String.self),
            contentType: try row.decode(column: "content_type", as: String?.self),
            size: try row.decode(column: "size", as: Int64.self),
            sha256: try row.decode(column: "sha256", as: String?.self),
            width: try row.decode(column: "width", as: Int?.self),
            height: try row.decode(column: "height", as: Int?.self),
            reason: try row.decode(column: "reason", as: String?.self),
            createdAt: Timestamp(milliseconds: try row.decode(column: "created_at", as: Int64.self)),
            processedAt: try row.decode(column: "processed_at", as: Int64?.self).map(Timestamp.init(milliseconds:))
        )
    }
}
