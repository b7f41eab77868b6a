import Storage

/// Where an upload is in its life: stored and waiting for the inspection job (`processing`), then
/// servable (`ready`) or refused with a reason (`rejected`, its file deleted). Ready and rejected
/// are final.
public enum UploadStatus: String, Sendable, Codable {
    case processing, ready, rejected
}

/// A stored upload: who sent it, where its bytes are and what the inspection found.
public struct UploadRecord: Sendable, Equatable {
    public var id: Int64
    public var userID: Int64
    public var status: UploadStatus
    /// The file's name inside the uploads directory: a random token, never anything a client sent.
    public var fileName: String
    /// The type detected from the content (`image/png`); nil until the upload is ready.
    public var contentType: String?
    public var size: Int64
    /// Lower-case hex SHA-256 of the content, once inspected.
    public var sha256: String?
    public var width: Int?
    public var height: Int?
    /// Why the upload was rejected.
    public var reason: String?
    public var createdAt: Timestamp
    public var processedAt: Timestamp?
}

/// An upload about to be stored, its bytes already on disk under `fileName`.
public struct NewUpload: Sendable {
    public var userID: Int64
    public var fileName: String
    public var size: Int64
    public var createdAt: Timestamp
}

/// A ready upload as a post shows it; it is served publicly at `/uploads/{id}`.
public struct Attachment: Sendable, Equatable {
    public var id: Int64
    public var contentType: String
    public var size: Int64
    public var width: Int?
    public var height: Int?

    /// The public address of the file.
    public var url: String { "/uploads/\(id)" }
}
