import Synchronization

/// Recently read posts, so that a popular post is answered without a query.
///
/// Entries are invalidated after every committed change to a post (edit, delete, like, comment,
/// the author's nickname). A read that raced with such a change must not put the old version back:
/// every invalidation advances a generation, and a reader stores what it read only if the
/// generation it saw before reading is still current.
///
/// Several instances on one database each keep their own: every invalidation here is passed to
/// the others (`onInvalidate`, over the relay, after the commit), which `forget` the post; and with
/// `maxAge` an entry is read again once it is that old, which bounds how stale another instance's
/// copy can be should a message between them be lost (a crash right after a commit).
public final class PostCache: Sendable {
    private struct State {
        var entries: [Int64: (post: PostRecord, storedAt: ContinuousClock.Instant)] = [:]
        var generation: UInt64 = 0
        /// Told of each invalidation made here (nil: every post).
        var onInvalidate: (@Sendable (Int64?) -> Void)?
    }

    public let capacity: Int
    /// How long an entry is served; nil: until invalidated (one process on its database).
    public let maxAge: Duration?
    private let state = Mutex(State())

    /// - Parameter capacity: most posts kept; 0 turns the cache off.
    public init(capacity: Int, maxAge: Duration? = nil) {
        self.capacity = capacity
        self.maxAge = maxAge
    }

    /// Passes every invalidation made by this process to `body` (the other instances).
    func onInvalidate(_ body: @escaping @Sendable (Int64?) -> Void) {
        state.withLock { $0.onInvalidate = body }
    }

    /// The cached post, or nil plus the generation to hand back to `store` after reading it.
    func lookup(_ id: Int64) -> (post: PostRecord?, generation: UInt64) {
        state.withLock { state in
            guard let entry = state.entries[id] else { return (nil, state.generation) }
            if let maxAge, ContinuousClock.now - entry.storedAt > maxAge { return (nil, state.generation) }
            return (entry.post, state.generation)
        }
    }

    /// Keeps `post` unless something was invalidated since `generation` was read.
    func store(_ post: PostRecord, readAt generation: UInt64) {
        guard capacity > 0 else { return }
        state.withLock { state in
            guard state.generation == generation else { return }
            if state.entries.count >= capacity, let victim = state.entries.keys.first {
                state.entries.removeValue(forKey: victim)
            }
            state.entries[post.id] = (post, .now)
        }
    }

    /// Forgets post `id`, here and on the other instances; call after the change is committed.
    func invalidate(_ id: Int64) {
        let peers = state.withLock { state in
            state.generation &+= 1
            state.entries.removeValue(forKey: id)
            return state.onInvalidate
        }
        peers?(id)
    }

    /// Forgets post `id` (or every post, for nil) here only: another instance changed it.
    func forget(_ id: Int64?) {
        state.withLock { state in
            state.generation &+= 1
            if let id { state.entries.removeValue(forKey: id) } else { state.entries.removeAll(keepingCapacity: true) }
        }
    }

    /// Brings cached posts up to the view counts just committed, keeping them cached (a popular
    /// post is viewed every second). Counts only grow, so the larger of the cached and the
    /// committed count is the current one; a read that raced with the write stores nothing, as
    /// after an invalidation.
    func updateViewCounts(_ committed: [Int64: Int]) {
        state.withLock { state in
            state.generation &+= 1
            for (id, count) in committed {
                if let cached = state.entries[id]?.post.viewCount, cached < count { state.entries[id]?.post.viewCount = count }
            }
        }
    }

    /// Forgets every post (an author renamed or deleted), here and on the other instances.
    func invalidateAll() {
        let peers = state.withLock { state in
            state.generation &+= 1
            state.entries.removeAll(keepingCapacity: true)
            return state.onInvalidate
        }
        peers?(nil)
    }
}
