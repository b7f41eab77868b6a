import Logging
import ServiceLifecycle
import Storage
import Synchronization

/// Keeps the post search index caught up: after new posts are written (and at least every
/// `interval` as a safety net) it indexes them in batches, so creating a post pays no index cost.
/// Search stays exact meanwhile: the engine scans the posts not yet indexed.
public final class SearchIndexer: Service, Sendable {
    let database: any Database
    let search: any PostTextSearch
    let interval: Duration
    let batchSize = 2_000
    let logger: Logger
    private let poked = Atomic<Bool>(false)

    init(database: any Database, search: any PostTextSearch, interval: Duration = .milliseconds(200), logger: Logger) {
        self.database = database
        self.search = search
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
        var total = 0
        while true {
            let search = self.search, batchSize = self.batchSize
            let added = try await database.transaction { db in try await search.indexNewPosts(limit: batchSize, on: db) }
            total += added
            if added < batchSize { return total }
        }
    }

    public func run() async throws {
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
