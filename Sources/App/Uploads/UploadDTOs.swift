import Hummingbird
import JSONWriting
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

/// A post's attachment as sent to clients.
struct AttachmentDTO: Encodable, Sendable {
    var id: Int64
    var contentType: String
    var size: Int64
    var width: Int?
    var height: Int?
    var url: String

    init(_ attachment: Attachment) {
        id = attachment.id
        contentType = attachment.contentType
        size = attachment.size
        width = attachment.width
        height = attachment.height
        url = attachment.url
    }
}

extension AttachmentDTO: JSONWritable {
    func write(to json: inout JSONWriter) {
        json.object { json in
            json.key("contentType"); json.value(contentType)
            if let height { json.key("height"); json.value(height) }
            json.key("id"); json.value(id)
            json.key("size"); json.value(size)
            json.key("url"); json.value(url)
            if let width { json.key("width"); json.value(width) }
        }
    }
}
