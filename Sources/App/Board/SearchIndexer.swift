import Logging
import ServiceLifecycle
import Storage
import Synchronization

/// Keeps a batched search index caught up: after new posts are written (and at least every
/// `interval` as a safety net) it indexes them in batches, so creating a post pays no index cost.
/// Search stays exact meanwhile: the engine scans the posts not yet indexed. Without a batched
/// index (on PostgreSQL, whose indexes follow every write) it has nothing to do.
public final class SearchIndexer: Service, Sendable {
    let database: any Database
    let index: (any BatchedTextIndex)?
    let interval: Duration
    let batchSize = 2_000
    let logger: Logger
    private let poked = Atomic<Bool>(false)

    init(database: any Database, index: (any BatchedTextIndex)?, interval: Duration = .milliseconds(200), logger: Logger) {
        self.database = database
        self.index = index
        self.interval = interval
        self.logger = logger
    }

    /// Notes that posts were written; the next pass starts within `interval`.
    func poke() {
        poked.store(true, ordering: .relaxed)
    }

    /// Indexes every post written so far; returns how many were added.
    @discardableResult
    public func catchUp() async throws -> Int {
        guard let index else { return 0 }
        var total = 0
        while true {
            let batchSize = self.batchSize
            let added = try await database.transaction { db in try await index.indexNewPosts(limit: batchSize, on: db) }
            total += added
            if added < batchSize { return total }
        }
    }

    public func run() async throws {
        guard index != nil else {
            // A service that returns ends the application: wait for its end instead.
            try? await gracefulShutdown()
            return
        }
        let checkEvery = 25 // passes; without a poke, look anyway (another process may have written)
        await cancelWhenGracefulShutdown {
            var passesSinceCheck = checkEvery // the first pass catches up with what was written before start
            while !Task.isCancelled {
                passesSinceCheck += 1
                if self.poked.exchange(false, ordering: .relaxed) || passesSinceCheck >= checkEvery {
                    passesSinceCheck = 0
                    do {
                        try await self.catchUp()
                    } catch {
                        self.logger.warning("search indexing failed; retrying", metadata: ["error": "\(error)"])
                    }
                }
                try? await Task.sleep(for: self.interval)
            }
        }
        // Leave the index caught up on a graceful stop.
        try? await catchUp()
    }
}
