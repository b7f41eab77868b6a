import Logging
import ServiceLifecycle
import Storage
import Synchronization

/// Counts post views without a database write per read: views are added up in memory and
/// written in one transaction every `interval`, and once more on a graceful stop. The stored
/// count is exact after each flush; a process killed outright loses at most one interval's views.
public final class ViewCounter: Service, Sendable {
    let database: any Database
    let posts: any PostRepository
    let cache: PostCache
    let interval: Duration
    let logger: Logger
    private let pending = Mutex<[Int64: Int]>([:])

    init(database: any Database, posts: any PostRepository, cache: PostCache, interval: Duration, logger: Logger) {
        self.database = database
        self.posts = posts
        self.cache = cache
        self.interval = interval
        self.logger = logger
    }

    /// Counts one view of post `id`.
    public func record(_ id: Int64) {
        pending.withLock { $0[id, default: 0] += 1 }
    }

    /// Writes the views counted so far; returns how many views were written. On failure the
    /// views are kept for the next flush.
    @discardableResult
    public func flush() async throws -> Int {
        let views = pending.withLock { pending in
            defer { pending.removeAll(keepingCapacity: true) }
            return pending
        }
        guard !views.isEmpty else { return 0 }
        let posts = self.posts
        let committed: [Int64: Int]
        do {
            committed = try await database.transaction { db in try await posts.addViews(views, on: db) }
        } catch {
            pending.withLock { pending in pending.merge(views, uniquingKeysWith: +) }
            throw error
        }
        // Cached posts carry their count: it is brought up to date in place.
        cache.updateViewCounts(committed)
        return views.values.reduce(0, +)
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try? await Task.sleep(for: self.interval)
                await self.flushLoggingFailure()
            }
        }
        await flushLoggingFailure()
    }

    private func flushLoggingFailure() async {
        do {
            try await flush()
        } catch {
            logger.warning("writing post views failed; keeping them for the next flush", metadata: ["error": "\(error)"])
        }
    }
}
