import Foundation
import HTTPTypes
import Hummingbird

/// `/api/uploads` (send a file; its owner's view of it) and `/uploads/{id}` (the public file).
struct UploadController {
    let uploads: UploadService
    let codes: AccountCodeService
    let fileIO = FileIO(threadPool: .singleton)

    func addRoutes(to routes: RouteTable) {
        let group = routes.group("/api/uploads")
        group.post(use: create)
        group.get("{id}", use: show)
        routes.get("/uploads/{id}", use: file)
    }

    /// Streams the body, whatever its content type, into a new upload of the caller: 201 at once,
    /// before the inspection job has run.
    @Sendable func create(_ request: Request, context: AppRequestContext) async throws -> EditedResponse<UploadAcceptedDTO> {
        let identity = try await context.requireWriter(codes)
        let declaredLength = request.headers[.contentLength].flatMap { Int($0) }
        let upload = try await uploads.create(from: request.body, declaredLength: declaredLength, by: identity.userID)
        return EditedResponse(status: .created, headers: [.location: "/api/uploads/\(upload.id)"],
                              response: UploadAcceptedDTO(id: upload.id, status: upload.status))
    }

    @Sendable func show(_ request: Request, context: AppRequestContext) async throws -> UploadDTO {
        let identity = try context.requireIdentity()
        return UploadDTO(try await uploads.find(try context.id(of: "The upload"), for: identity.userID))
    }

    /// The file of a ready upload, streamed from disk, with a strong ETag (its SHA-256), one
    /// byte range on request, and caching for a year: a ready upload never changes.
    @Sendable func file(_ request: Request, context: AppRequestContext) async throws -> Response {
        let file = try await uploads.servableFile(try context.id(of: "The upload"))
        let eTag = "\"\(file.sha256)\""
        var headers = HTTPFields()
        headers[.contentType] = file.contentType
        // Also on a 304 (RFC 9110 §8.6: the length a 200 would have), where the empty body would say 0.
        headers[.contentLength] = String(file.size)
        headers[.eTag] = eTag
        headers[.acceptRanges] = "bytes"
        headers[.cacheControl] = "public, max-age=31536000, immutable"
        // A PDF opened in the API's origin could run its scripts in a viewer; it is saved instead.
        if file.contentType == "application/pdf" { headers[.contentDisposition] = "attachment" }

        if Self.anyTagMatches(request.headers[values: .ifNoneMatch], eTag) {
            return Response(status: .notModified, headers: headers)
        }
        var range = ByteRangeRequest(header: request.headers[.range], size: file.size)
        // A range is served only while the client's copy is still current.
        if let ifRange = request.headers[.ifRange], ifRange != eTag { range = .whole }
        switch range {
        case .whole:
            return Response(status: .ok, headers: headers, body: try await fileIO.loadFile(path: file.path, context: context))
        case .partial(let bytes):
            headers[.contentLength] = String(bytes.count)
            headers[.contentRange] = "bytes \(bytes.lowerBound)-\(bytes.upperBound)/\(file.size)"
            let body = try await fileIO.loadFile(path: file.path, range: Int(bytes.lowerBound)...Int(bytes.upperBound), context: context)
            return Response(status: .partialContent, headers: headers, body: body)
        case .unsatisfiable:
            var error = APIError(.rangeNotSatisfiable, code: "range_not_satisfiable",
                                 message: "The range asks for none of the file's \(file.size) bytes.")
            error.headers["Content-Range"] = "bytes */\(file.size)"
            throw error
        }
    }

    /// Whether an `If-None-Match` list names `eTag` (compared weakly, as RFC 9110 says) or is `*`.
    static func anyTagMatches(_ fieldValues: [String], _ eTag: String) -> Bool {
        fieldValues.lazy.flatMap { $0.split(separator: ",") }.contains { candidate in
            var tag = candidate.trimmingCharacters(in: .whitespaces)[...]
            if tag == "*" { return true }
            if tag.hasPrefix("W/") { tag = tag.dropFirst(2) }
            return tag == eTag[...]
        }
    }
}
