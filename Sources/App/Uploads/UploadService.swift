import Crypto
import NIOCore
import Queue
import SQLKit
import Storage

/// Uploads: a streamed body is stored and answered at once, the `upload.process` job inspects it
/// (SHA-256, type, dimensions) and marks it ready or rejected; the owner sees its metadata, and
/// everyone may fetch a ready file (attachments are public).
public struct UploadService: Sendable {
    let database: any Database
    let uploads: any UploadRepository
    let files: UploadFiles
    /// Where the inspection job is enqueued (in the transaction that stores the upload).
    let queue: JobQueue
    /// The largest upload accepted, in bytes.
    public let maxBytes: Int

    /// Stores `body` as a new upload of `ownerID`, queues its inspection and returns it, still
    /// `processing`. The body is streamed to disk, never held whole.
    ///
    /// - Parameter declaredLength: the request's `Content-Length`, when it has one: past the limit
    ///   the upload is refused before a byte is read.
    /// - Throws: `ServiceError.tooLarge` past `maxBytes` (nothing is left on disk),
    ///   `ServiceError.validation` for an empty body, and whatever ended the body early.
    public func create<Body: AsyncSequence & Sendable>(from body: Body, declaredLength: Int?, by ownerID: Int64)
    async throws -> UploadRecord where Body.Element == ByteBuffer {
        if let declaredLength {
            guard declaredLength <= maxBytes else { throw ServiceError.tooLarge(limitBytes: maxBytes) }
            guard declaredLength > 0 else { throw Self.emptyBody }
        }
        let stored = try await files.store(body, limit: maxBytes)
        // NIO ends a body cut short with an error; this only makes sure nothing partial is kept.
        let isComplete = declaredLength.map { Int64($0) == stored.size } ?? true
        guard stored.size > 0, isComplete else {
            try? await files.remove(stored.fileName)
            throw stored.size == 0 ? Self.emptyBody : ServiceError.invalid("body", "ended before its Content-Length")
        }
        let uploads = self.uploads
        let queue = self.queue
        let new = NewUpload(userID: ownerID, fileName: stored.fileName, size: stored.size, createdAt: .now)
        do {
            return try await database.transaction { db in
                let upload = try await uploads.insert(new, on: db)
                try await queue.enqueue(ProcessUploadJob(uploadId: upload.id), in: db)
                return upload
            }
        } catch {
            // Nothing refers to the file: the row was rolled back.
            try? await files.remove(stored.fileName)
            throw error
        }
    }

    /// Upload `id` if `viewerID` owns it; for anyone else it does not exist (404), so no user
    /// learns another's uploads.
    public func find(_ id: Int64, for viewerID: Int64) async throws -> UploadRecord {
        let uploads = self.uploads
        guard let upload = try await database.read({ db in try await uploads.find(id: id, on: db) }),
              upload.userID == viewerID else {
            throw ServiceError.notFound("The upload")
        }
        return upload
    }

    /// A ready upload's file, as it is served.
    struct ServableFile: Sendable {
        var path: String
        var contentType: String
        var sha256: String
        var size: Int64
    }

    /// The file of ready upload `id`, for serving to anyone; anything else is 404.
    func servableFile(_ id: Int64) async throws -> ServableFile {
        let uploads = self.uploads
        guard let upload = try await database.read({ db in try await uploads.find(id: id, on: db) }),
              upload.status == .ready, let contentType = upload.contentType, let sha256 = upload.sha256 else {
            throw ServiceError.notFound("The upload")
        }
        return ServableFile(path: files.fullPath(of: upload.fileName), contentType: contentType, sha256: sha256, size: upload.size)
    }

    /// Inspects upload `id` and marks it ready or rejected; a rejected upload's file is deleted.
    ///
    /// Idempotent, as a job must be: an upload that is no longer processing is left as it is (a
    /// rejected one only loses its file, should an earlier run have stopped before deleting it),
    /// and the conditional updates let only one of two concurrent runs decide.
    func process(_ id: Int64) async throws {
        let uploads = self.uploads
        // Gone with its account: nothing to do.
        guard let upload = try await database.read({ db in try await uploads.find(id: id, on: db) }) else { return }
        switch upload.status {
        case .ready:
            return
        case .rejected:
            try await files.remove(upload.fileName)
            return
        case .processing:
            break
        }
        guard try await files.exists(upload.fileName) else {
            try await database.transaction { db in
                _ = try await uploads.markRejected(id: id, reason: "The stored file is missing.", sha256: nil, at: .now, on: db)
            }
            return
        }
        let (sha256, verdict) = try await inspect(upload.fileName)
        try await database.transaction { db in
            switch verdict {
            case .accepted(let media):
                _ = try await uploads.markReady(id: id, contentType: media.contentType, sha256: sha256,
                                                width: media.width, height: media.height, at: .now, on: db)
            case .rejected(let reason):
                _ = try await uploads.markRejected(id: id, reason: reason, sha256: sha256, at: .now, on: db)
            }
        }
        if case .rejected = verdict {
            try await files.remove(upload.fileName)
        }
    }

    /// Reads the file once, hashing it and feeding the inspector until it has its verdict.
    private func inspect(_ fileName: String) async throws -> (sha256: String, verdict: MediaInspector.Verdict) {
        var hasher = SHA256()
        var inspector = MediaInspector()
        try await files.forEachChunk(of: fileName) { chunk in
            chunk.withUnsafeReadableBytes { hasher.update(bufferPointer: $0) }
            if inspector.verdict == nil { inspector.feed(chunk.readableBytesView) }
        }
        let verdict = inspector.finish()
        let sha256 = hasher.finalize().map { byte in
            let hex = String(byte, radix: 16)
            return byte < 0x10 ? "0" + hex : hex
        }.joined()
        return (sha256, verdict)
    }

    /// Throws a 422 on `attachments` unless each of `ids` is a ready upload of `authorID`. Runs in
    /// the caller's transaction, the one that writes the post.
    static func requireAttachable(_ ids: [Int64], by authorID: Int64, uploads: any UploadRepository,
                                  on db: any SQLDatabase) async throws {
        guard !ids.isEmpty else { return }
        let found = Set(try await uploads.readyUploads(ids: ids, ownedBy: authorID, on: db).map(\.id))
        let refused = ids.filter { !found.contains($0) }
        guard refused.isEmpty else {
            throw ServiceError.invalid("attachments", "must be ready uploads of the post's author; these are not: "
                                       + refused.map(String.init).joined(separator: ", "))
        }
    }

    private static let emptyBody = ServiceError.invalid("body", "must not be empty")
}
