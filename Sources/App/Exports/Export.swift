import Storage

/// Where a data export is in its life: `pending` → `running` → `ready` (or `failed`).
public enum ExportStatus: String, Codable, Sendable {
    case pending, running, ready, failed
}

/// A stored data export.
public struct ExportRecord: Sendable, Equatable {
    public var id: Int64
    public var userID: Int64
    public var status: ExportStatus
    /// 0–100.
    public var progress: Int
    /// The ZIP's name in the exports directory, once ready.
    public var fileName: String?
    public var size: Int64?
    public var error: String?
    public var createdAt: Timestamp
    public var finishedAt: Timestamp?
}
