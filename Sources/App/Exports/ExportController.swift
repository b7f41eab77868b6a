import Hummingbird
import HTTPTypes
import Storage

/// `POST /api/users/me/export`, `GET /api/exports/{id}` and its file: the caller's data exports.
struct ExportController {
    let exports: ExportService

    func addRoutes(to routes: RouteTable) {
        routes.post("/api/users/me/export", use: request)
        routes.get("/api/exports/{id}", use: show)
        routes.get("/api/exports/{id}/file", use: download)
    }

    @Sendable func request(_ request: Request, context: AppRequestContext) async throws -> EditedResponse<ExportDTO> {
        let identity = try context.requireIdentity()
        return EditedResponse(status: .accepted, response: ExportDTO(try await exports.request(by: identity.userID)))
    }

    @Sendable func show(_ request: Request, context: AppRequestContext) async throws -> ExportDTO {
        let identity = try context.requireIdentity()
        return ExportDTO(try await exports.export(try context.id(of: "The export"), for: identity))
    }

    @Sendable func download(_ request: Request, context: AppRequestContext) async throws -> Response {
        let identity = try context.requireIdentity()
        let id = try context.id(of: "The export")
        let path = try await exports.file(of: id, for: identity)
        let body = try await FileIO().loadFile(path: path, context: context)
        var headers = HTTPFields()
        headers[.contentType] = "application/zip"
        headers[.contentDisposition] = "attachment; filename=\"agora-export-\(id).zip\""
        headers[.cacheControl] = "private, no-store"
        return Response(status: .ok, headers: headers, body: body)
    }
}

/// An export's state as its owner sees it.
struct ExportDTO: Encodable, Sendable, ResponseEncodable {
    var exportId: Int64
    var status: ExportStatus
    var progress: Int
    var size: Int64?
    var error: String?
    var createdAt: Timestamp
    var finishedAt: Timestamp?
    /// Where to download the ZIP, once ready.
    var downloadUrl: String?

    init(_ export: ExportRecord) {
        exportId = export.id
        status = export.status
        progress = export.progress
        size = export.size
        error = export.error
        createdAt = export.createdAt
        finishedAt = export.finishedAt
        downloadUrl = export.status == .ready ? "/api/exports/\(export.id)/file" : nil
    }
}
