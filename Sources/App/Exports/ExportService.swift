import Foundation
import Queue
import SQLKit
import Storage

/// Data exports: a ZIP of a user's profile, posts and comments as JSON, built by a queued job
/// and kept for seven days, downloadable by its owner only.
public struct ExportService: Sendable {
    static let keptFor: Duration = .seconds(7 * 24 * 3600)
    static let pageSize = 200

    let database: any Database
    let exports: any ExportRepository
    let users: any UserRepository
    let posts: any PostRepository
    let comments: any CommentRepository
    let queue: JobQueue
    /// `<data dir>/exports`.
    let directory: URL

    /// Starts an export of the caller's data, or returns the one still in progress.
    public func request(by userID: Int64) async throws -> ExportRecord {
        let exports = self.exports, queue = self.queue
        return try await database.transaction { db in
            if let live = try await exports.live(userID: userID, on: db) { return live }
            let id = try await exports.insert(userID: userID, at: .now, on: db)
            try await queue.enqueue(BuildExportJob(exportId: id), in: db)
            guard let export = try await exports.find(id: id, on: db) else { throw StorageInvariant("export \(id) vanished") }
            return export
        }
    }

    /// The export, for its owner only: anyone else gets `notFound`, as for an export that does not exist.
    public func export(_ id: Int64, for identity: Identity) async throws -> ExportRecord {
        let exports = self.exports
        guard let export = try await database.read({ db in try await exports.find(id: id, on: db) }),
              export.userID == identity.userID else { throw ServiceError.notFound("The export") }
        return export
    }

    /// The path of the ready ZIP, for its owner only.
    public func file(of id: Int64, for identity: Identity) async throws -> String {
        let export = try await export(id, for: identity)
        guard export.status == .ready, let name = export.fileName else { throw ServiceError.notFound("The export's file") }
        return directory.appendingPathComponent(name).path
    }

    /// Builds the export's ZIP. Running it again after a crash starts the files over; an export
    /// already finished is left alone.
    func build(_ id: Int64) async throws {
        let exports = self.exports, users = self.users, posts = self.posts, comments = self.comments
        guard let export = try await database.read({ db in try await exports.find(id: id, on: db) }),
              export.status == .pending || export.status == .running else { return }
        let userID = export.userID
        let found = try await database.read { db -> (UserRecord, ProfileCounts, Int)? in
            guard let user = try await users.find(id: userID, on: db) else { return nil }
            return (user, try await users.counts(of: userID, on: db), try await comments.count(authorID: userID, on: db))
        }
        // The account is gone, and its exports with it.
        guard let (user, counts, commentCount) = found else { return }
        try await setProgress(0, of: id)
        try await Self.createDirectory(directory)

        let archive = try await ExportArchive.start(in: directory, exportID: id)
        try await archive.write("profile.json", AccountDTO(user, counts: counts))
        let total = max(1, counts.posts + commentCount)
        var done = 0

        let postFile = try await archive.array("posts.json")
        var before: Int64?
        while true {
            let cursor = before
            let page = try await database.read { db in
                try await posts.list(PostFilter(authorID: userID), before: cursor, limit: Self.pageSize, viewerID: nil, on: db)
            }
            try await postFile.append(page.map(PostDTO.init))
            done += page.count
            try await setProgress(min(95, done * 95 / total), of: id)
            guard page.count == Self.pageSize, let last = page.last else { break }
            before = last.id
        }
        try await postFile.close()

        let commentFile = try await archive.array("comments.json")
        var after: Int64?
        while true {
            let cursor = after
            let page = try await database.read { db in
                try await comments.list(authorID: userID, after: cursor, limit: Self.pageSize, on: db)
            }
            try await commentFile.append(page.map(CommentDTO.init))
            done += page.count
            try await setProgress(min(95, done * 95 / total), of: id)
            guard page.count == Self.pageSize, let last = page.last else { break }
            after = last.id
        }
        try await commentFile.close()

        let fileName = "agora-export-\(id)-\(UUID().uuidString.lowercased()).zip"
        let size = try await archive.finish(into: directory, fileName: fileName)
        try await database.transaction { db in try await exports.setReady(id: id, fileName: fileName, size: size, at: .now, on: db) }
    }

    /// Marks the export failed (its job's last attempt failed).
    func fail(_ id: Int64, error: String) async throws {
        let exports = self.exports
        try await database.transaction { db in try await exports.setFailed(id: id, error: error, at: .now, on: db) }
    }

    /// Deletes exports older than seven days with their files; returns how many files were removed.
    @discardableResult
    func prune(now: Timestamp = .now) async throws -> Int {
        let exports = self.exports
        let cutoff = Timestamp(milliseconds: now.milliseconds - Int64(Self.keptFor.components.seconds) * 1000)
        let names = try await database.transaction { db in try await exports.deleteCreated(before: cutoff, on: db) }
        let directory = self.directory
        return try await NIOThreadPoolFiles.remove(names.map { directory.appendingPathComponent($0) })
    }

    private func setProgress(_ progress: Int, of id: Int64) async throws {
        let exports = self.exports
        try await database.transaction { db in try await exports.setRunning(id: id, progress: progress, on: db) }
    }

    private static func createDirectory(_ url: URL) async throws {
        try await NIOThreadPoolFiles.run { try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true) }
    }
}
