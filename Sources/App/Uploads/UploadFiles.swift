import NIOCore
import _NIOFileSystem

/// The bytes of uploads on disk: one directory, one file per upload, named by a random token so
/// that nothing a client sends reaches a path. Every operation is asynchronous (NIOFileSystem on
/// its thread pool), so no request or job blocks a thread of Swift's cooperative pool.
struct UploadFiles: Sendable {
    /// The uploads directory (`<data dir>/uploads`).
    let directory: String

    private var fileSystem: FileSystem { .shared }

    /// Streams `body` into a new file and returns its name and size; the body is never held whole.
    ///
    /// The bytes go to `<token>.part`, renamed to `<token>` once complete. Past `limit` bytes it
    /// stops reading and throws `ServiceError.tooLarge`; on that and on any other failure (the
    /// client disconnecting mid-body, a full disk) the partial file is removed before it throws.
    func store<Body: AsyncSequence & Sendable>(_ body: Body, limit: Int) async throws -> (fileName: String, size: Int64)
    where Body.Element == ByteBuffer {
        let fileName = Self.randomFileName()
        let partial = path(of: fileName + ".part")
        do {
            let size = try await fileSystem.withFileHandle(forWritingAt: partial, options: .newFile(replaceExisting: false)) { handle in
                var writer = handle.bufferedWriter(capacity: .kibibytes(256))
                var size: Int64 = 0
                for try await chunk in body {
                    size += Int64(chunk.readableBytes)
                    guard size <= limit else { throw ServiceError.tooLarge(limitBytes: limit) }
                    try await writer.write(contentsOf: chunk)
                }
                try await writer.flush()
                return size
            }
            try await fileSystem.moveItem(at: partial, to: path(of: fileName))
            return (fileName, size)
        } catch {
            await removeIgnoringCancellation(partial)
            throw error
        }
    }

    /// Calls `body` with each chunk of the file, in order.
    func forEachChunk(of fileName: String, _ body: (ByteBuffer) throws -> Void) async throws {
        try await fileSystem.withFileHandle(forReadingAt: path(of: fileName)) { handle in
            for try await chunk in handle.readChunks(in: ..., chunkLength: .kibibytes(128)) {
                try body(chunk)
            }
        }
    }

    /// Whether the file exists.
    func exists(_ fileName: String) async throws -> Bool {
        try await fileSystem.info(forFileAt: path(of: fileName)) != nil
    }

    /// Deletes the file; nothing happens when it is already gone.
    func remove(_ fileName: String) async throws {
        try await fileSystem.removeItem(at: path(of: fileName), recursively: false)
    }

    /// The file's full path, for serving it.
    func fullPath(of fileName: String) -> String {
        path(of: fileName).string
    }

    private func path(of fileName: String) -> FilePath {
        FilePath(directory).appending(fileName)
    }

    /// Deletes `path` even when the calling task is cancelled (the request whose client went
    /// away): the removal runs in a task of its own. Failures are ignored; this is clean-up.
    private func removeIgnoringCancellation(_ path: FilePath) async {
        let fileSystem = self.fileSystem
        _ = await Task { try? await fileSystem.removeItem(at: path, recursively: false) }.value
    }

    /// 128 random bits in hex.
    static func randomFileName() -> String {
        var generator = SystemRandomNumberGenerator()
        let hex = Array("0123456789abcdef".utf8)
        var name: [UInt8] = []
        for _ in 0..<2 {
            var word = generator.next() as UInt64
            for _ in 0..<16 {
                name.append(hex[Int(word & 0xF)])
                word >>= 4
            }
        }
        return String(decoding: name, as: UTF8.self)
    }
}
