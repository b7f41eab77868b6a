import Foundation
import ZIPFoundation

/// The files of one export being built: JSON documents written a page at a time into a scratch
/// directory, then zipped (ZIPFoundation) into the exports directory. Every file operation runs
/// on NIO's blocking-I/O thread pool, never on Swift's cooperative threads.
struct ExportArchive {
    let scratch: URL

    /// Starts with an empty scratch directory (left over from an interrupted attempt or not).
    static func start(in directory: URL, exportID: Int64) async throws -> ExportArchive {
        let scratch = directory.appendingPathComponent("\(exportID).building", isDirectory: true)
        try await NIOThreadPoolFiles.run {
            try? FileManager.default.removeItem(at: scratch)
            try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        }
        return ExportArchive(scratch: scratch)
    }

    /// Writes one whole JSON document.
    func write(_ name: String, _ value: some Encodable & Sendable) async throws {
        let url = scratch.appendingPathComponent(name)
        try await NIOThreadPoolFiles.run {
            try JSONCoding.prettyEncoder.encode(value).write(to: url)
        }
    }

    /// Opens `name` as a JSON array that `append` extends a page at a time.
    func array(_ name: String) async throws -> JSONArrayFile {
        let url = scratch.appendingPathComponent(name)
        let handle = try await NIOThreadPoolFiles.run { () -> FileHandle in
            FileManager.default.createFile(atPath: url.path, contents: Data("[".utf8))
            let handle = try FileHandle(forWritingTo: url)
            try handle.seekToEnd()
            return handle
        }
        return JSONArrayFile(handle: handle)
    }

    /// Zips the scratch files into `directory/fileName` (through a temporary name, so a reader
    /// never sees half a file), removes the scratch directory and returns the ZIP's size.
    func finish(into directory: URL, fileName: String) async throws -> Int64 {
        let scratch = self.scratch
        return try await NIOThreadPoolFiles.run {
            let partial = directory.appendingPathComponent(fileName + ".part")
            try? FileManager.default.removeItem(at: partial)
            let archive = try Archive(url: partial, accessMode: .create)
            for name in try FileManager.default.contentsOfDirectory(atPath: scratch.path).sorted() {
                try archive.addEntry(with: name, relativeTo: scratch, compressionMethod: .deflate)
            }
            let final = directory.appendingPathComponent(fileName)
            try FileManager.default.moveItem(at: partial, to: final)
            try? FileManager.default.removeItem(at: scratch)
            let size = try FileManager.default.attributesOfItem(atPath: final.path)[.size] as? NSNumber
            return size?.int64Value ?? 0
        }
    }
}

/// A JSON array written to a file a page of items at a time.
final class JSONArrayFile: @unchecked Sendable {
    // Used by one export task at a time, each call on the thread pool.
    private let handle: FileHandle
    private var isEmpty = true

    init(handle: FileHandle) {
        self.handle = handle
    }

    func append<Item: Encodable & Sendable>(_ items: [Item]) async throws {
        guard !items.isEmpty else { return }
        var data = Data()
        for item in items {
            data.append(contentsOf: isEmpty ? Data("\n".utf8) : Data(",\n".utf8))
            data.append(try JSONCoding.prettyEncoder.encode(item))
            isEmpty = false
        }
        let handle = self.handle, chunk = data
        try await NIOThreadPoolFiles.run { try handle.write(contentsOf: chunk) }
    }

    func close() async throws {
        let handle = self.handle
        let end = Data((isEmpty ? "]\n" : "\n]\n").utf8)
        try await NIOThreadPoolFiles.run {
            try handle.write(contentsOf: end)
            try handle.close()
        }
    }
}
