import DequeModule

/// A first-come, first-served async lock: SQLite allows one writer at a time, and waiting
/// here (in order, without blocking a thread) is cheaper than spinning on `SQLITE_BUSY`.
actor WriterLock {
    private var held = false
    private var waiters: Deque<CheckedContinuation<Void, Never>> = []

    func acquire() async {
        if !held {
            held = true
            return
        }
        await withCheckedContinuation { waiters.append($0) }
    }

    func release() {
        if let next = waiters.popFirst() {
            next.resume()
        } else {
            held = false
        }
    }
}
