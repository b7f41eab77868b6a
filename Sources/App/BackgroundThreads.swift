import NIOPosix
#if canImport(Glibc)
import Glibc
#endif

/// Threads for background work that must not take CPU from requests: the bcrypt of queued
/// password strengthening and the outbox's file writes. Each runs at nice 10, so a backlog after
/// a burst uses only the CPU that requests leave (the queue levels the load; the kernel's
/// scheduler enforces it).
enum BackgroundThreads {
    /// A started pool of `count` threads at nice 10.
    static func lowPriorityPool(threads count: Int = 1) -> NIOThreadPool {
        let pool = NIOThreadPool(numberOfThreads: count)
        pool.start()
        // Each thread lowers itself on its first work item; with one thread, this is it.
        for _ in 0..<count { pool.submit { _ in lowerThisThreadsPriority() } }
        return pool
    }

    /// Nice 10 for the calling thread: on Linux the nice value is per thread, and `who` 0 is the
    /// calling one. A no-op elsewhere.
    static func lowerThisThreadsPriority() {
        #if os(Linux)
        _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 10)
        #endif
    }
}
