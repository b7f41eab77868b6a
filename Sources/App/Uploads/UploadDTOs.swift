import Hummingbird
import Storage

/// An upload as its owner sees it; `url` once it is ready.
struct UploadDTO: Encodable, Sendable, ResponseEncodable {
    var id: Int64
    var status: UploadStatus
    var contentType: String?
    var size: Int64
    var sha256: String?
    var width: Int?
    var height: Int?
    var reason: String?
    var createdAt: Timestamp
    var url: String?

    init(_ upload: UploadRecord) {
        id = upload.id
        status = upload.status
        contentType = upload.contentType
        size = upload.size
        sha256 = upload.sha256
        width = upload.width
        height = upload.height
        reason = upload.reason
        createdAt = upload.createdAt
        url = upload.status == .ready ? "/uploads/\(upload.id)" : nil
    }
}

/// `{id, status}`: the answer to an upload, before its inspection.
struct UploadAcceptedDTO: Encodable, Sendable, ResponseEncodable {
    var id: Int64
    var status: UploadStatus
}

