import Synchronization

/// Recently read posts, so that a popular post is answered without a query.
///
/// Entries are invalidated after every committed change to a post (edit, delete, like, comment,
/// the author's nickname). A read that raced with such a change must not put the old version back:
/// every invalidation advances a generation, and a reader stores what it read only if the
/// generation it saw before reading is still current.
///
/// Several instances on one database each keep their own. A change announces itself to the
/// others inside its transaction (`ChatEvent.postChanged` over the relay), so they hear it exactly
/// when it commits and invalidate their copy; an instance whose listener was cut off invalidates
/// everything once it listens again. Nothing else can leave a copy stale, so entries have no age.
public final class PostCache: Sendable {
    private struct State {
        var entries: [Int64: PostRecord] = [:]
        var generation: UInt64 = 0
    }

    public let capacity: Int
    private let state = Mutex(State())

    /// - Parameter capacity: most posts kept; 0 turns the cache off.
    public init(capacity: Int) {
        self.capacity = capacity
    }

    /// The cached post, or nil plus the generation to hand back to `store` after reading it.
    func lookup(_ id: Int64) -> (post: PostRecord?, generation: UInt64) {
        state.withLock { state in (state.entries[id], state.generation) }
    }

    /// Keeps `post` unless something was invalidated since `generation` was read.
    func store(_ post: PostRecord, readAt generation: UInt64) {
        guard capacity > 0 else { return }
        state.withLock { state in
            guard state.generation == generation else { return }
            if state.entries.count >= capacity, let victim = state.entries.keys.first {
                state.entries.removeValue(forKey: victim)
            }
            state.entries[post.id] = post
        }
    }

    /// Forgets post `id` (nil: every post): call after the change is committed, or when another
    /// instance announced one.
    func invalidate(_ id: Int64?) {
        state.withLock { state in
            state.generation &+= 1
            if let id { state.entries.removeValue(forKey: id) } else { state.entries.removeAll(keepingCapacity: true) }
        }
    }

    /// Brings cached posts up to the view counts just committed, keeping them cached (a popular
    /// post is viewed every second). Counts only grow, so the larger of the cached and the
    /// committed count is the current one; a read that raced with the write stores nothing, as
    /// after an invalidation. Another instance's cached count catches up when it next writes
    /// views of that post, which it does within a flush interval of serving it.
    func updateViewCounts(_ committed: [Int64: Int]) {
        state.withLock { state in
            state.generation &+= 1
            for (id, count) in committed {
                if let cached = state.entries[id]?.viewCount, cached < count { state.entries[id]?.viewCount = count }
            }
        }
    }
}
