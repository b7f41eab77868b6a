import Foundation
import NIOPosix

/// Blocking file-system calls, run on NIO's thread pool so that Swift's cooperative threads never wait on the disk.
enum NIOThreadPoolFiles {
    static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await NIOThreadPool.singleton.runIfActive(body)
    }

    /// Removes the files that exist among `urls`; returns how many were removed.
    static func remove(_ urls: [URL]) async throws -> Int {
        guard !urls.isEmpty else { return 0 }
        return try await run { urls.filter { (try? FileManager.default.removeItem(at: $0)) != nil }.count }
    }
}
